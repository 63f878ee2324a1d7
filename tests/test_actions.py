"""Result buttons: reroll, vary, animate, report; foreign and expired payloads are refused."""

from __future__ import annotations

from typing import Any

from core.context import ChatContext
from core.service import button_data, parse_button_data
from core.service.facade import Reelsmith
from core.types import JobKind, Requester
from tests.conftest import wait_for

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")


async def _done(service: Reelsmith, job_id: str) -> Any:
    return await wait_for(lambda: service.queue.load_reply(job_id), timeout=60)


def test_button_payload_fits_platform_limits() -> None:
    data = button_data("animate", "0123456789abcdef")
    assert len(data.encode()) <= 64 and parse_button_data(data) == ("animate", "0123456789abcdef")
    assert parse_button_data("rs:reroll:../../x") is None
    assert parse_button_data("other:reroll:abc") is None


async def test_reroll_vary_animate(service: Reelsmith, worker: Any) -> None:
    first = await service.handle(ALICE, "/imagine a fox --seed 5 --ar 16:9")
    assert first.ok and first.job_id
    reply = await _done(service, first.job_id)
    assert reply.error is None

    bob = Requester(platform="web", user_id="bob", chat_id="room1")
    reroll = await service.action(bob, ChatContext(), button_data("reroll", first.job_id))
    assert reroll.ok and reroll.request is not None
    assert reroll.request.prompt == "a fox" and reroll.request.aspect_ratio == "16:9"
    assert reroll.request.requester.user_id == "bob" and reroll.request.job_id != first.job_id

    vary = await service.action(ALICE, ChatContext(), button_data("vary", first.job_id))
    assert vary.ok and vary.request is not None and vary.request.kind == JobKind.EDIT
    assert vary.request.references[0].blob_key == reply.media[0].blob_key

    anim = await service.action(ALICE, ChatContext(), button_data("animate", first.job_id))
    assert anim.ok and anim.request is not None and anim.request.kind == JobKind.ANIMATE
    anim_reply = await _done(service, anim.request.job_id)
    assert anim_reply.error is None and anim_reply.media[0].mime == "video/mp4"


async def test_foreign_expired_and_unknown_buttons(service: Reelsmith) -> None:
    first = await service.handle(ALICE, "/imagine a fox")
    assert first.job_id
    stranger = Requester(platform="web", user_id="eve", chat_id="elsewhere")
    out = await service.action(stranger, ChatContext(), button_data("reroll", first.job_id))
    assert not out.ok and "another chat" in out.text
    out = await service.action(ALICE, ChatContext(), button_data("reroll", "deadbeefdeadbeef"))
    assert not out.ok and "results and their buttons are kept for 7 days" in out.text
    out = await service.action(ALICE, ChatContext(), "rs:explode:" + first.job_id)
    assert not out.ok and "isn't one I know" in out.text
    # Animate needs a finished image; this job has not run (no worker here).
    out = await service.action(ALICE, ChatContext(), button_data("animate", first.job_id))
    assert not out.ok and "finished image" in out.text
    depth_before = await service.queue.depth()
    assert depth_before == 1  # only the original; refusals queued nothing
