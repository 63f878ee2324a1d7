"""A member may keep only `media_user_bytes` of attachments stored at once: over it a request is refused with
what to do, stores nothing and costs nothing; other members are not affected, and refused requests hold no room."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from core.settings import Settings
from tests.playground import send
from tests.security.charges_helpers import blob_ids, noise_png, stored_bytes, usage

PHOTOS = [noise_png(i) for i in range(3)]
BUDGET = len(PHOTOS[0]) + len(PHOTOS[1]) + 1000  # room for two photos, not three


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Many jobs in flight, so only the byte budget can refuse.
    return settings.model_copy(update={"media_user_bytes": BUDGET, "quota_max_in_flight": 10})


async def _edit(client: TestClient[Any, Any], chat: str, photos: list[bytes]) -> dict[str, Any]:
    return await send(client, chat, "/edit make it snowy", [(f"p{i}.png", p) for i, p in enumerate(photos)])


async def test_member_over_the_byte_budget_is_refused_and_charged_nothing(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings) -> None:
    assert (await _edit(web_client, "ann", [PHOTOS[0]]))["ok"]
    assert (await _edit(web_client, "ann", [PHOTOS[1]]))["ok"]
    blobs, credits = await blob_ids(service), (await usage(service, "ann")).used

    refused = await _edit(web_client, "ann", [PHOTOS[2]])
    assert not refused["ok"] and refused["job_id"] is None
    text = refused["message"]["text"]
    assert "limit" in text and "Room comes back" in text and "Nothing was charged" in text, text
    assert await blob_ids(service) == blobs and (await usage(service, "ann")).used == credits
    assert await stored_bytes(service, "ann") == len(PHOTOS[0]) + len(PHOTOS[1])
    # The count lasts as long as the blobs it counts.
    budget_ttl = await service.redis.pttl(settings.key("blob-bytes", "web:ann"))
    assert 0 < budget_ttl <= settings.blob_ttl_s * 1000

    # Budgets are per member; one request larger than the whole budget is told so.
    assert (await _edit(web_client, "bob", [PHOTOS[2]]))["ok"]
    too_big = await _edit(web_client, "cat", PHOTOS)
    assert not too_big["ok"] and "more than the" in too_big["message"]["text"]
    assert await stored_bytes(service, "cat") == 0


async def test_refused_requests_hold_no_room(web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    assert (await send(web_client, "dan", "/mod pause"))["ok"]
    for _ in range(3):
        assert not (await _edit(web_client, "dan", PHOTOS[:2]))["ok"]
    assert await blob_ids(service) == set() and await stored_bytes(service, "dan") == 0
    assert (await send(web_client, "dan", "/mod resume"))["ok"]
    assert (await _edit(web_client, "dan", PHOTOS[:2]))["ok"]  # the whole budget is still there
    assert await stored_bytes(service, "dan") == len(PHOTOS[0]) + len(PHOTOS[1])
