"""Result buttons as the features declare them: rows, one per image, and one press runs (and charges) once."""

from __future__ import annotations

import asyncio
from typing import Any

from core.context import ChatContext
from core.contract import Feature, Outcome, ResultButton, Service
from core.quotas.book import QuotaBook
from core.service import button_data, image_ref, parse_button_data, parse_image_ref
from core.service.buttons import result_buttons
from core.service.facade import Reelsmith
from core.types import GenerationReply, JobKind, MediaFile, Requester
from tests.conftest import wait_for
from tests.result_buttons_expected import IMAGE_LABELS, IMAGE_ROWS, VIDEO_LABELS

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")


def _reply(images: int, kind: JobKind = JobKind.IMAGE) -> GenerationReply:
    media = [MediaFile(blob_key=f"b{i}", mime="image/png", filename=f"{i}.png", size=1, width=8, height=8)
             for i in range(images)]
    return GenerationReply(job_id="0123456789abcdef", requester=ALICE, kind=kind, prompt="p", seed=1, media=media)


def test_per_image_buttons_rows_and_refs() -> None:
    declared = [ResultButton("up", "U", row=0, per_image=True), ResultButton("vary", "V", row=1, per_image=True),
                ResultButton("reroll", "Reroll", "\U0001f501", row=2)]
    buttons = result_buttons(declared, _reply(4))
    # Groups pack: Reroll's fits in the V row's fifth place.
    assert [(b.label, b.row) for b in buttons] == [("U1", 0), ("U2", 0), ("U3", 0), ("U4", 0), ("V1", 1), ("V2", 1),
                                                   ("V3", 1), ("V4", 1), ("Reroll", 1)]
    parsed = parse_button_data(buttons[2].data)
    assert parsed is not None and parse_image_ref(parsed[1]) == ("0123456789abcdef", 3)
    assert all(len(b.data.encode()) <= 64 for b in buttons)  # Telegram's callback_data limit
    assert parse_image_ref("0123456789abcdef") == ("0123456789abcdef", 1) and image_ref("ab", 2) == "ab2"
    # One image: one plain button; a video: image-only buttons hidden; an error: none.
    single = result_buttons(declared, _reply(1))
    assert [(b.label, b.row) for b in single] == [("U", 0), ("V", 0), ("Reroll", 0)]  # one compact row
    assert result_buttons(declared, _reply(1).model_copy(update={"error": "x"})) == []
    many = [ResultButton(f"a{i}", f"A{i}") for i in range(30)]
    placed = result_buttons(many, _reply(1))
    assert len(placed) == 25 and max(b.row for b in placed) == 4  # Discord: five rows of five at most
    assert all(sum(1 for b in placed if b.row == r) == 5 for r in range(5))


def test_the_service_shows_the_features_buttons(service: Reelsmith) -> None:
    labels = [b.label for b in service.result_buttons(_reply(1))]
    # core.variants makes Variations per image (V1..V4) and adds Upscale and Vary (strong) for images.
    assert labels == IMAGE_LABELS
    assert [b.row for b in service.result_buttons(_reply(1))] == IMAGE_ROWS
    four = service.result_buttons(_reply(4))  # U, V and S rows, then the rest; zoom and pan come after picking one
    assert max(b.row for b in four) <= 4 and all(sum(1 for b in four if b.row == r) <= 5 for r in range(5))
    assert not any(parse_button_data(b.data)[0].startswith(("zoom", "pan")) for b in four)  # type: ignore[index]
    assert [b.label for b in service.result_buttons(_reply(1, JobKind.VIDEO))] == VIDEO_LABELS
    report = service.result_button("report")
    assert report is not None and report.private and not report.queues


async def test_a_double_press_runs_and_charges_once(service: Reelsmith, worker: Any) -> None:
    first = await service.handle(ALICE, "/imagine a fox --seed 5")
    assert first.job_id
    await wait_for(lambda: service.queue.load_reply(first.job_id or ""), timeout=60)
    book = QuotaBook(service.redis, service.settings)
    before = (await book.usage("web", "bob")).used
    bob = Requester(platform="web", user_id="bob", chat_id="room1")
    data = button_data("reroll", first.job_id)
    presses = await asyncio.gather(*(service.action(bob, ChatContext(), data) for _ in range(3)))
    assert sum(1 for p in presses if p.ok) == 1, [p.text for p in presses]
    assert sum(1 for p in presses if "Already on it" in p.text) == 2
    [job] = [p.job_id for p in presses if p.ok]
    await wait_for(lambda: service.queue.load_reply(job or ""), timeout=60)
    assert (await book.usage("web", "bob")).used - before > 0
    charged = (await book.usage("web", "bob")).used - before
    again = await service.action(bob, ChatContext(), data)  # a redelivered press, later: still one job
    assert not again.ok and (await book.usage("web", "bob")).used - before == charged
    # Another member's press is their own.
    carol = await service.action(Requester(platform="web", user_id="carol", chat_id="room1"), ChatContext(), data)
    assert carol.ok


async def test_a_refused_press_may_be_tried_again(service: Reelsmith) -> None:
    calls: list[str] = []

    async def flaky(_service: Service, _who: Requester, _ctx: ChatContext, ref: str) -> Outcome:
        calls.append(ref)
        return Outcome("not yet", ok=len(calls) > 1)

    custom = Reelsmith(service.settings, service.redis, [Feature("t", actions={"poke": flaky},
                                                                 result_buttons=(ResultButton("poke", "Poke"),))])
    data = button_data("poke", "0123456789abcdef")
    assert not (await custom.action(ALICE, ChatContext(), data)).ok
    assert (await custom.action(ALICE, ChatContext(), data)).ok
    assert not (await custom.action(ALICE, ChatContext(), data)).ok and len(calls) == 2  # then once per window
