"""/verify tells a chat's moderators who made a result only when it was made in their own chat (Discord: server):
a moderator of any chat (anyone can make one) must not trace members of other chats."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.settings import Settings
from tests.playground import finished, send


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"image_base_size": 256})  # big enough to carry the watermark


async def _verify(client: TestClient[Any, Any], chat: str, png: bytes) -> str:
    sent = await send(client, chat, "/verify", [("out.png", png, "image/png")])
    return str(sent["message"]["text"])


async def test_verify_traces_a_result_only_for_its_own_chats_moderators(
        web_client: TestClient[Any, Any], worker: Any, settings: Settings) -> None:
    sent = await send(web_client, "home", "/imagine a lighthouse at dusk")
    assert sent["ok"], sent
    msg = await finished(web_client, "home", sent["job_id"], timeout=120)
    png = await (await web_client.get(msg["media"][0]["url"])).read()

    # Each playground chat's user moderates that chat, like the admin of any Telegram group or Discord server.
    rogue = await _verify(web_client, "rogue", png)
    assert rogue.startswith("\u2705"), rogue  # it learns the result was made here ...
    assert sent["job_id"] not in rogue and "web:home" not in rogue and "Moderators" not in rogue, rogue  # not whose

    home = await _verify(web_client, "home", png)
    assert f"job {sent['job_id']}" in home and "web:home" in home, home


async def test_configured_moderators_trace_results_of_every_chat(
        web_client: TestClient[Any, Any], worker: Any, settings: Settings) -> None:
    settings.moderator_ids = ["web:desk"]  # the service reads its settings object per call
    sent = await send(web_client, "home", "/imagine a lighthouse at dusk")
    msg = await finished(web_client, "home", sent["job_id"], timeout=120)
    png = await (await web_client.get(msg["media"][0]["url"])).read()
    desk = await _verify(web_client, "desk", png)
    assert f"job {sent['job_id']}" in desk and "web:home" in desk, desk
