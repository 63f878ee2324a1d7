"""Result buttons through the real PTB Application: Reroll, Variations, Report, and refused payloads."""

from __future__ import annotations

from typing import Any

from bots.telegram.app import TelegramBot
from core.queue.replies import ReplyBus
from core.service import button_data
from core.service.facade import Reelsmith
from core.types import GenerationRequest, JobKind
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to, noise_png, queue_job, reply_for, until
from tests.telegram.fake_api import Call, FakeBotAPI


def _toasts(api: FakeBotAPI) -> list[Call]:
    return api.sent("answerCallbackQuery")


async def _finished_image(api: FakeBotAPI, service: Reelsmith, chat: int) -> tuple[GenerationRequest, Any]:
    """A finished /imagine (as a worker leaves it: reply saved and published); returns the posted result."""
    _msg, _status, request = await queue_job(api, service, "/imagine a red fox --ar 16:9 --seed 7", chat=chat)
    reply = await reply_for(service, request, noise_png(), "image/png")
    await service.queue.save_reply(reply)
    await ReplyBus(service.redis, service.settings).publish_reply(reply)
    [photo] = await until(lambda: api.sent("sendPhoto"))
    return request, photo.result


async def _jobs(service: Reelsmith, *, besides: str = "") -> dict[JobKind, GenerationRequest]:
    """Queued jobs by kind (the queue is in fair order, not arrival order), leaving out `besides`."""
    out = {}
    for job in await service.redis.zrange(service.settings.queue_name, 0, -1):
        if job.decode() == besides:
            continue
        request = await service.queue.load_request(job.decode())
        assert request is not None
        out[request.kind] = request
    return out


async def test_reroll_and_variations_queue_new_jobs_under_the_result(api: FakeBotAPI, bot: TelegramBot,
                                                                     service: Reelsmith) -> None:
    original, result = await _finished_image(api, service, GROUP)
    api.press(GROUP, BOB, result, button_data("reroll", original.job_id))
    api.press(GROUP, ALICE, result, button_data("vary", original.job_id))
    statuses = await until(lambda: api.replies_to(result) if len(api.replies_to(result)) == 2 else None)
    assert all("Queued" in s.params["text"] for s in statuses)
    toasts = await until(lambda: _toasts(api) if len(_toasts(api)) == 2 else None)
    assert all("Queued" in t.params["text"] for t in toasts)
    jobs = await _jobs(service, besides=original.job_id)
    reroll, vary = jobs[JobKind.IMAGE], jobs[JobKind.EDIT]
    assert reroll.job_id != original.job_id and reroll.prompt == "a red fox" and reroll.aspect_ratio == "16:9"
    assert reroll.requester.user_id == str(BOB) and reroll.requester.route["message_id"] == str(result["message_id"])
    reply = await service.queue.load_reply(original.job_id)
    assert reply is not None and vary.references[0].blob_key == reply.media[0].blob_key
    # Each new job's status message is remembered, so its progress and result find it.
    for job in (reroll, vary):
        status = await bot.state.status(job.job_id)
        assert status is not None and status["chat_id"] == str(GROUP)


async def test_report_is_acknowledged_privately_and_recorded(api: FakeBotAPI, bot: TelegramBot,
                                                             service: Reelsmith) -> None:
    original, result = await _finished_image(api, service, GROUP)
    api.press(GROUP, BOB, result, button_data("report", original.job_id))
    [toast] = await until(lambda: _toasts(api))
    # A callback answer is seen only by the presser: nothing is posted in the group.
    assert "moderators will review" in toast.params["text"]
    assert api.replies_to(result) == []
    [report] = await service.redis.xrange(service.settings.key("reports"))
    assert report[1][b"job_id"] == original.job_id.encode() and report[1][b"by"] == str(BOB).encode()


async def test_foreign_expired_and_unknown_buttons_are_answered_politely(api: FakeBotAPI, bot: TelegramBot,
                                                                         service: Reelsmith) -> None:
    msg = api.message(ALICE, ALICE, "/imagine a fox")
    status = await answer_to(api, msg)
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    # Data copied into another chat's message (a forged button): refused.
    api.press(GROUP, BOB, {**status.result, "chat": api.chat(GROUP)}, button_data("reroll", job_id))
    api.press(ALICE, ALICE, status.result, button_data("reroll", "deadbeefdeadbeef"))
    api.press(ALICE, ALICE, status.result, "rs:explode:" + job_id)
    api.press(ALICE, ALICE, status.result, "something else entirely")
    api.press(ALICE, ALICE, status.result, button_data("animate", job_id))  # not finished yet
    toasts = await until(lambda: _toasts(api) if len(_toasts(api)) == 5 else None)
    texts = [t.params["text"] for t in toasts]
    assert sum("another chat" in t for t in texts) == 1 and sum("too old" in t for t in texts) == 1
    assert sum("isn't one I know" in t for t in texts) == 2 and sum("finished image" in t for t in texts) == 1
    assert all(t.params["show_alert"] == "true" for t in toasts)
    assert await service.queue.depth() == 1  # only the original job
