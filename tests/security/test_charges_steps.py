"""Steps are part of the cost: each started `cost_steps()` denoising steps (the default steps: 2 on the tiny
models the tests run) costs the base again, so `--steps 60` is not the price of the default."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from core.settings import Settings
from tests.playground import send
from tests.security.charges_helpers import usage


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # eve is an owner, so she can raise her own overall credits (`global`) for the long job below.
    return settings.model_copy(update={"quota_credits": 4, "quota_max_in_flight": 10, "owner_ids": ["web:eve"]})


async def test_more_steps_cost_more_and_the_refusal_says_so(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings) -> None:
    assert settings.steps_default() == 2  # the tiny models
    assert (await send(web_client, "eve", "/imagine a fox"))["ok"]
    assert (await send(web_client, "eve", "/imagine a fox --steps 2"))["ok"]  # the default steps: as before
    assert (await usage(service, "eve")).used == 2
    assert (await send(web_client, "eve", "/imagine a fox --steps 3"))["ok"]  # a second started unit
    assert (await usage(service, "eve")).used == 4

    assert (await send(web_client, "eve", "/mod quota set global eve 100"))["ok"]
    assert (await send(web_client, "eve", f"/imagine a fox --steps {settings.max_steps}"))["ok"]
    assert (await usage(service, "eve")).used == 4 + settings.max_steps // 2

    assert (await send(web_client, "eve", "/mod quota set eve 5"))["ok"]
    refused = await send(web_client, "eve", "/imagine a fox --steps 8")
    text = refused["message"]["text"]
    assert not refused["ok"] and "costs 4 credits" in text and "Fewer --steps" in text, text
