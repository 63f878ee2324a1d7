"""Self-service through discord.py against the fake: Cancel on the status message, Edit's pre-filled modal
whose submission runs, Delete removes the posted result and its file, /history answered ephemerally with
working buttons; strangers are refused."""

from __future__ import annotations

import copy
from typing import Any

from bots.discord.client import ReelsmithBot
from core.quotas.book import QuotaBook
from core.service import button_data
from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.discord.conftest import callback, finished, job_id_of, private_answer
from tests.discord.fake_discord import USER_ID, FakeDiscord, Sent, person

BOB = person(USER_ID + 1, "bob")


async def _queued(fake: FakeDiscord, token: str) -> Any:
    async def seen() -> Any:
        msg = fake.original(token)
        return msg if msg is not None and "Queued" in msg.content else None
    return await wait_for(seen, timeout=15)


async def test_cancel_on_the_status_message(fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a castle"})  # no worker: it waits
    status = await _queued(fake, token)
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    assert status.custom_ids == [button_data("cancel", job_id)]
    shown = Sent(copy.deepcopy(status.payload))  # the message as a client still shows it (a double click)

    stranger = await fake.press(status, button_data("cancel", job_id), user=BOB)
    assert "Only the member who asked" in (await private_answer(fake, stranger)).content
    first = await fake.press(status, button_data("cancel", job_id))
    assert "taken off the queue" in (await private_answer(fake, first)).content
    cancelled = await finished(fake, token)
    assert "cancelled" in cancelled.content and cancelled.custom_ids == []  # the error replaced it, Cancel gone
    second = await fake.press(shown, button_data("cancel", job_id))
    assert "already cancelled" in (await private_answer(fake, second)).content
    book = QuotaBook(service.redis, service.settings)
    assert await book.reservation_state(job_id) == "refunded"
    assert (await book.usage("discord", str(USER_ID))).used == 0


async def test_edit_modal_delete_and_history(fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith,
                                            worker: Any) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "a castle", "seed": 3, "steps": 1}))
    job_id = job_id_of(msg.content)
    assert {button_data(a, job_id) for a in ("copy", "edit", "delete")} <= set(msg.custom_ids)

    edit = await fake.press(msg, button_data("edit", job_id))
    modal = await callback(fake, edit)
    assert modal["type"] == 9
    [field] = [c["component"] for c in modal["data"]["components"] if c["component"]["type"] == 4]
    assert field["value"].startswith("/imagine a castle --seed 3 --steps 1")
    submitted = await fake.submit_modal(modal, {"command": "/imagine a tower --seed 4 --steps 1"}, [])
    again = await finished(fake, submitted)
    request = await service.queue.load_request(job_id_of(again.content))
    assert request is not None and (request.prompt, request.seed) == ("a tower", 4)

    history_token = await fake.slash("history", {})
    history = await private_answer(fake, history_token)
    assert "1. /imagine a tower" in history.content and "2. /imagine a castle" in history.content
    delete = button_data("delete", job_id)
    assert delete in history.custom_ids

    refused = await fake.press(msg, delete, user=BOB)
    assert "Only the member who asked" in (await private_answer(fake, refused)).content
    pressed = await fake.press(history, delete)  # the button under the ephemeral /history answer
    assert "Deleted" in (await private_answer(fake, pressed)).content
    await wait_for(lambda: _deleted(fake, msg.id), timeout=15)
    reply = await service.queue.load_reply(job_id)
    assert reply is not None and await service.media(reply.media[0].blob_key) is None


async def _deleted(fake: FakeDiscord, message_id: int) -> bool:
    return fake.messages[message_id].deleted
