"""Self-service in core: Copy/Edit command text (round trip), Delete and Cancel for the requester and moderators
only, /history with working buttons."""

from __future__ import annotations

from typing import Any

import pytest

from core.context import ChatContext
from core.quotas.book import QuotaBook
from core.selfservice import PREFILL, command_text
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import wait_for

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")
BOB = Requester(platform="web", user_id="bob", chat_id="room1")
MEMBER = ChatContext(is_moderator=False)
MODERATOR = ChatContext(is_moderator=True)


@pytest.mark.parametrize("text", [
    "/imagine a fox in the snow --seed 5 --steps 3 --ar 16:9 --no blurry, text",
    "/video a boat at sea --frames 17 --format gif --seed 1 --steps 2",
    "/imagine a cat --model tiny-sd --seed 9 --steps 4",
    "/meme a cat at a desk | monday | again",
])
def test_command_text_round_trips(settings: Settings, text: str) -> None:
    from core.service.requests import build_request, resolve_media

    def settled(t: str) -> Any:
        parsed = resolve_media(settings, parse(t), [])
        return build_request(settings, parsed, ALICE, []), parsed

    def parse(t: str) -> Any:
        from core.service.grammar import parse_command
        return parse_command(t, extra_commands=())

    request, _ = settled(text)
    again = command_text(request)
    request2, _ = settled(again)
    keep = ("kind", "prompt", "negative_prompt", "aspect_ratio", "seed", "steps", "model", "style", "num_frames",
            "output_format", "meme_top", "meme_bottom", "width", "height", "fit_audio")
    assert request2.model_dump(include=set(keep)) == request.model_dump(include=set(keep)), again


async def _done(service: Reelsmith, job_id: str) -> Any:
    return await wait_for(lambda: service.queue.load_reply(job_id), timeout=60)


async def test_copy_edit_delete_and_history(service: Reelsmith, worker: Any) -> None:
    first = await service.handle(ALICE, "/imagine a fox --seed 5 --steps 1", ctx=MEMBER)
    second = await service.handle(ALICE, "/imagine an owl --seed 6 --steps 1", ctx=MEMBER)
    assert first.job_id and second.job_id
    reply = await _done(service, first.job_id)
    await _done(service, second.job_id)

    copied = await service.action(BOB, MEMBER, button_data("copy", first.job_id))  # anyone here may copy
    assert copied.ok and copied.private and "```\n/imagine a fox --seed 5 --steps 1" in copied.text
    edit = await service.action(ALICE, MEMBER, button_data("edit", first.job_id))
    assert edit.ok and edit.extra[PREFILL].startswith("/imagine a fox --seed 5 --steps 1")
    assert (await service.handle(ALICE, edit.extra[PREFILL], ctx=MEMBER)).ok  # the prefill runs as is

    history = await service.handle(ALICE, "/history", ctx=MEMBER)
    assert history.private and history.text.splitlines()[1].startswith("1. /imagine an owl")
    assert [b.data for b in history.buttons if b.label.startswith("Delete")][:2] == [
        button_data("delete", second.job_id), button_data("delete", first.job_id)]
    assert "alice" not in (await service.handle(BOB, "/history", ctx=MEMBER)).text  # Bob has none here

    refused = await service.action(BOB, MEMBER, button_data("delete", first.job_id))
    assert not refused.ok and "Only the member who asked" in refused.text
    assert await service.media(reply.media[0].blob_key) is not None

    # The history's own button works: the media goes, the result leaves the history.
    deleted = await service.action(ALICE, MEMBER, history.buttons[3].data)  # Delete 1 (the owl) is [1]; [3]: fox
    assert deleted.ok, deleted.text
    assert await service.media(reply.media[0].blob_key) is None
    assert await service.queue.load_request(first.job_id) is not None  # the record (provenance) stays
    again = await service.handle(ALICE, f"/delete {first.job_id}", ctx=MEMBER)
    assert "already deleted" in again.text
    history = await service.handle(ALICE, "/history", ctx=MEMBER)
    assert first.job_id not in " ".join(b.data for b in history.buttons)

    by_mod = await service.action(BOB, MODERATOR, button_data("delete", second.job_id))
    assert by_mod.ok


async def test_cancel_own_queued_job_refunds_once(service: Reelsmith) -> None:
    queued = await service.handle(ALICE, "/imagine a fox", ctx=MEMBER)
    assert queued.job_id
    data = button_data("cancel", queued.job_id)
    assert [b.data for b in service.status_buttons(queued.job_id)] == [data]
    refused = await service.action(BOB, MEMBER, data)
    assert not refused.ok and "Only the member who asked" in refused.text

    first = await service.action(ALICE, MEMBER, data)
    second = await service.action(ALICE, MEMBER, data)  # a double press
    assert first.ok and "taken off the queue" in first.text
    assert not second.ok and "already cancelled" in second.text
    book = QuotaBook(service.redis, service.settings)
    assert await book.reservation_state(queued.job_id) == "refunded"
    assert (await book.usage("web", "alice")).used == 0
    assert await service.queue.depth() == 0

    none_left = await service.handle(ALICE, "/cancel", ctx=MEMBER)
    assert not none_left.ok and "no job waiting" in none_left.text


def test_every_kind_has_its_command() -> None:
    from core.selfservice.command_text import COMMAND_OF
    from core.service.grammar import command_for
    from core.types import JobKind
    assert {k: COMMAND_OF[k] for k in JobKind} == {k: command_for(k) for k in JobKind}  # buttons' kinds too


async def test_copy_of_a_styled_result_gives_what_was_typed(service: Reelsmith) -> None:
    assert (await service.handle(ALICE, "/styles add noir {prompt}, film noir --no color --ar 16:9",
                                 ctx=MODERATOR)).ok
    queued = await service.handle(ALICE, "/imagine a detective --style noir --no rain --seed 3", ctx=MEMBER)
    assert queued.ok and queued.request is not None
    assert queued.request.prompt == "a detective, film noir" and queued.request.aspect_ratio == "16:9"
    copied = await service.action(ALICE, MEMBER, button_data("copy", queued.request.job_id))
    text = copied.extra["command"]
    assert text.startswith("/imagine a detective --seed 3") and "--style noir" in text and text.endswith("--no rain")
    assert "--ar" not in text and "film noir" not in text  # the style adds those again
    again = await service.handle(ALICE, text, ctx=MEMBER)
    assert again.request is not None
    keep = {"prompt", "negative_prompt", "aspect_ratio", "seed", "style", "width", "height"}
    assert again.request.model_dump(include=keep) == queued.request.model_dump(include=keep)


async def test_cancel_own_running_job_stops_it(service: Reelsmith, settings: Settings) -> None:
    import asyncio
    import contextlib

    from core.queue.finisher import CANCELLED_TEXT
    from tests.moderation.test_reports_and_queue import BlockingPipelines
    from workers.settings import build_worker

    pipes = BlockingPipelines()
    w = build_worker(settings, warm=False, pipelines=pipes, handle_signals=False)  # type: ignore[arg-type]
    task = asyncio.create_task(w.async_run())
    try:
        queued = await service.handle(ALICE, "/imagine a slow fox", ctx=MEMBER)
        assert queued.job_id
        await wait_for(lambda: asyncio.to_thread(pipes.started.wait, 0.05), timeout=30)
        await wait_for(lambda: _running(service, str(queued.job_id)), timeout=10)
        stopped = await service.handle(ALICE, "/cancel", ctx=MEMBER)  # the member's own latest job
        assert stopped.ok and "is running; it is being stopped" in stopped.text
        reply = await wait_for(lambda: service.queue.load_reply(str(queued.job_id)), timeout=20)
        assert reply.error == CANCELLED_TEXT
        book = QuotaBook(service.redis, service.settings)
        assert await wait_for(lambda: _refunded(book, str(queued.job_id)), timeout=10)
    finally:
        pipes.release.set()
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _running(service: Reelsmith, job_id: str) -> bool:
    return await service.queue.state(job_id) == "running"


async def _refunded(book: QuotaBook, job_id: str) -> bool:
    return await book.reservation_state(job_id) == "refunded"
