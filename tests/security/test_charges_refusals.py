"""A refused request stores nothing: its attachments never outlive the refusal, whichever guard refused it,
and it costs nothing. A refused result button never deletes the result it reuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest
from tests.conftest import running_worker
from tests.playground import send
from tests.security.charges_helpers import blob_ids, job_reply, noise_png, post_command, stored_bytes, usage

FACE = Path(__file__).resolve().parents[1] / "moderation" / "data" / "face.jpg"
THREE = [(f"photo{i}.png", noise_png(i)) for i in range(3)]

Setup = Callable[[TestClient[Any, Any], Reelsmith, str], Awaitable[None]]


async def _nothing(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    return None


async def _paused(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    assert (await send(client, chat, "/mod pause"))["ok"]


async def _banned(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    assert (await send(client, chat, f"/mod ban {chat} 1h spamming"))["ok"]


async def _no_credits(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    assert (await send(client, chat, f"/mod quota set {chat} 0"))["ok"]


async def _two_in_flight(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    for i in range(2):  # no worker runs: both stay queued, the most a member may have at once
        assert (await send(client, chat, f"/imagine fox {i}"))["ok"]


async def _queue_down(client: TestClient[Any, Any], service: Reelsmith, chat: str) -> None:
    async def broken(request: GenerationRequest) -> int:
        raise ConnectionError("redis went away")

    service.queue.enqueue = broken  # type: ignore[method-assign]


# (setup, command, attachments, what the member is told; None: the request fails with a server error)
CASES: dict[str, tuple[Setup, str, list[tuple[str, bytes]], str | None]] = {
    "blocklisted": (_nothing, "/edit make it look like Tom Cruise", THREE, "protected"),
    "paused": (_paused, "/edit make it snowy", THREE, "paused"),
    "banned": (_banned, "/edit make it snowy", THREE, "banned"),
    "out of credits": (_no_credits, "/edit make it snowy", THREE, "credit"),
    "in-flight cap": (_two_in_flight, "/edit make it snowy", THREE, "queued or rendering"),
    "face without consent": (_nothing, "/edit make it snowy", [*THREE, ("me.jpg", FACE.read_bytes())], "face"),
    "queue unreachable": (_queue_down, "/edit make it snowy", THREE, None),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_refused_request_stores_nothing_and_costs_nothing(
        web_client: TestClient[Any, Any], service: Reelsmith, case: str) -> None:
    setup, command, files, told = CASES[case]
    chat = "member"
    await setup(web_client, service, chat)
    before_blobs, before = await blob_ids(service), await usage(service, chat)
    if told is None:
        resp = await post_command(web_client, chat, command, files)
        assert resp.status == 500
    else:
        answer = await send(web_client, chat, command, files)
        assert not answer["ok"] and answer["job_id"] is None
        assert told in answer["message"]["text"], answer["message"]["text"]
    assert await blob_ids(service) == before_blobs  # nothing of the refused request is left in Redis
    assert await stored_bytes(service, chat) == 0  # ... nor counted against the member's storage budget
    after = await usage(service, chat)
    assert (after.used, after.in_flight) == (before.used, before.in_flight)


async def test_refused_button_keeps_the_result_it_reuses(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    chat = "artist"
    async with running_worker(settings, pipelines):
        result = await job_reply(web_client, chat, "/imagine a red fox")
    assert not result["error"], result["text"]
    [media] = result["media"]
    vary = next(b["data"] for b in result["buttons"] if b["label"] == "Variations")
    assert (await send(web_client, chat, "/mod pause"))["ok"]
    before = await blob_ids(service)
    refused_edit = await send(web_client, chat, "/edit make it snowy", THREE)
    resp = await web_client.post("/api/button", json={"chat": chat, "data": vary})
    refused_vary = await resp.json()
    assert not refused_edit["ok"] and not refused_vary["ok"] and "paused" in refused_vary["message"]["text"]
    assert await blob_ids(service) == before  # the edit's photos are gone, the reused result is not
    assert (await web_client.get(media["url"])).status == 200
