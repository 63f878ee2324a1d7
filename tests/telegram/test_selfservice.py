"""Self-service through the real PTB Application: Cancel on the status message (owner only, refunded once),
Edit's ForceReply whose reply runs, Delete removes the posted result and its file, /history in private."""

from __future__ import annotations

from typing import Any

from bots.telegram.app import TelegramBot
from core.quotas.book import QuotaBook
from core.service import button_data
from core.service.facade import Reelsmith
from core.types import GenerationRequest
from tests.telegram.conftest import ALICE, BOB, GROUP, noise_png, queue_job, reply_for, until
from tests.telegram.fake_api import Call, FakeBotAPI


def _toasts(api: FakeBotAPI, n: int) -> Any:
    return until(lambda: api.sent("answerCallbackQuery") if len(api.sent("answerCallbackQuery")) >= n else None)


async def _finished(api: FakeBotAPI, service: Reelsmith, chat: int) -> tuple[GenerationRequest, Any]:
    """A finished /imagine, ended through the finisher as a worker ends it (so its finalizers ran)."""
    _msg, _status, request = await queue_job(api, service, "/imagine a red fox --seed 7 --steps 2", chat=chat)
    await service.redis.zrem(service.settings.queue_name, request.job_id)  # as a worker takes it
    reply = await reply_for(service, request, noise_png(), "image/png")
    await service.finisher.finish(request, reply, "complete")
    [photo] = await until(lambda: api.sent("sendPhoto"))
    return request, photo.result


async def test_cancel_button_on_the_status_message(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    api.set_member(GROUP, BOB, "member")
    _msg, status, request = await queue_job(api, service, chat=GROUP)
    cancel = button_data("cancel", request.job_id)
    assert status.callback_data() == [cancel]
    api.press(GROUP, BOB, status.result, cancel)
    [refused] = await _toasts(api, 1)
    assert "Only the member who asked" in refused.params["text"] and refused.params["show_alert"] == "true"
    api.press(GROUP, ALICE, status.result, cancel)
    api.press(GROUP, ALICE, status.result, cancel)  # a double press
    toasts = await _toasts(api, 3)
    assert sorted("taken off the queue" in t.params["text"] for t in toasts[1:]) == [False, True]
    edited: list[Call] = await until(lambda: [c for c in api.sent("editMessageText")
                                                if "cancelled" in c.params["text"]])
    assert "reply_markup" not in edited[0].params  # the error replaces the status, Cancel goes
    book = QuotaBook(service.redis, service.settings)
    assert await book.reservation_state(request.job_id) == "refunded"
    assert (await book.usage("telegram", str(ALICE))).used == 0


async def test_edit_delete_and_history(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    request, result = await _finished(api, service, ALICE)
    data = [b["callback_data"] for row in result["reply_markup"]["inline_keyboard"] for b in row]
    assert {button_data(a, request.job_id) for a in ("copy", "edit", "delete")} <= set(data)

    api.press(ALICE, ALICE, result, button_data("edit", request.job_id))
    prompt = await until(lambda: [c for c in api.sent("sendMessage") if c.json("reply_markup", {}).get("force_reply")])
    assert "<code>/imagine a red fox --seed 7 --steps 2 --model " in prompt[0].params["text"]
    # The member's reply (without the command name) runs as the edited command.
    api.message(ALICE, ALICE, "a blue fox --seed 8", reply_to=prompt[0].result)
    await until(lambda: [c for c in api.sent("sendMessage") if "Queued" in c.params["text"]
                         and c.params.get("reply_parameters")] if len(api.sent("sendMessage")) >= 3 else None)
    jobs = [await service.queue.load_request(j.decode())
            for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    assert [(j.prompt, j.seed) for j in jobs if j] == [("a blue fox", 8)]

    api.press(ALICE, ALICE, result, button_data("copy", request.job_id))
    copied = await until(lambda: [c for c in api.sent("sendMessage") if "tap it to copy" in c.params["text"]])
    assert "<code>/imagine a red fox --seed 7 --steps 2 --model " in copied[0].params["text"]

    history_cmd = api.message(ALICE, ALICE, "/history")
    [history] = await until(lambda: api.replies_to(history_cmd))
    assert "1. /imagine a red fox" in history.params["text"]
    delete = next(d for d in history.callback_data() if d.startswith("rs:delete:"))
    api.press(ALICE, BOB, result, delete)  # someone else (here: another account) may not
    api.press(ALICE, ALICE, history.result, delete)
    await until(lambda: api.sent("deleteMessage") and (ALICE, result["message_id"]) not in api.messages)
    reply = await service.queue.load_reply(request.job_id)
    assert reply is not None and await service.media(reply.media[0].blob_key) is None
    texts = [t.params.get("text", "") for t in await _toasts(api, 4)]
    assert any("Only the member who asked" in t for t in texts) and any("Deleted" in t for t in texts)


async def test_history_in_a_group_goes_to_a_private_chat(api: FakeBotAPI, bot: TelegramBot,
                                                         service: Reelsmith) -> None:
    await _finished(api, service, GROUP)
    asked = api.message(GROUP, ALICE, "/history")
    [note] = await until(lambda: api.replies_to(asked))
    assert "private chat" in note.params["text"]
    [private] = [c for c in api.sent("sendMessage", chat_id=ALICE) if "latest results" in c.params["text"]]
    assert any(d.startswith("rs:copy:") for d in private.callback_data())
    api.block(ALICE)  # never started the bot: the answer stays in the group, with a note
    again = api.message(GROUP, ALICE, "/history")
    [answer] = await until(lambda: api.replies_to(again))
    assert "latest results" in answer.params["text"] and "start a chat with me" in answer.params["text"]
