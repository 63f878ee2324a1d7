"""Attachments: size cap while streaming, type from the bytes, the File Upload modal and the context menus."""

from __future__ import annotations

from typing import Any

from bots.discord.client import ReelsmithBot
from core.service.facade import Reelsmith
from core.types import JobKind
from tests.discord.conftest import callback, finished, job_id_of, png, private_answer
from tests.discord.fake_discord import FakeDiscord


async def test_oversized_attachment_is_refused_before_and_while_downloading(
        fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith) -> None:
    service.settings.max_reference_bytes = 4000
    big = png((300, 300)) + b"\0" * 8000
    declared = await fake.slash("edit", {"prompt": "x"}, files={"image": ("big.png", big, "image/png")})
    answer = await private_answer(fake, declared)
    assert answer.content.startswith("\u26a0") and f"big.png is {round(len(big) / 1e3)} KB; the limit is 4 KB" \
        in answer.content
    downloads = [r for r in fake.requests if r.startswith("GET /cdn/")]
    assert downloads == []  # refused from the declared size, nothing fetched

    # The declared size lies: the cap still holds while streaming.
    lied = await fake.slash("edit", {"prompt": "x"}, files={"image": ("small.png", big, "image/png")},
                            declared_size=100)
    answer = await private_answer(fake, lied)
    assert answer.content.startswith("\u26a0") and "small.png is larger than" in answer.content
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def test_sizes_are_told_in_one_unit(fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith) -> None:
    # Issue 15: a 20 MiB cap read "the limit is 21.0 MB" (bytes / 10^6) next to sizes Discord shows in MiB.
    service.settings.max_reference_bytes = 20 * 1024 * 1024
    token = await fake.slash("edit", {"prompt": "x"}, files={"image": ("big.png", png(), "image/png")},
                             declared_size=int(31.5 * 1024 * 1024))
    answer = await private_answer(fake, token)
    assert "big.png is 31.5 MB; the limit is 20 MB" in answer.content, answer.content


async def test_attachment_type_comes_from_the_bytes(fake: FakeDiscord, bot: ReelsmithBot,
                                                    service: Reelsmith) -> None:
    token = await fake.slash("edit", {"prompt": "x"},
                             files={"image": ("cat.png", b"MZ\x90\0 not an image", "image/png")})
    answer = await private_answer(fake, token)
    assert "cat.png is not a supported image" in answer.content
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def test_references_modal_takes_up_to_ten_files(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                      service: Reelsmith) -> None:
    token = await fake.slash("references", {"command": "edit", "prompt": "a collage"})
    modal = await callback(fake, token, kind=9)
    upload = [c["component"] for c in modal["data"]["components"] if c["component"]["type"] == 19]
    assert upload and upload[0]["max_values"] == 10
    files = [(f"ref{i}.png", png(color=(i * 20, 0, 0)), "image/png") for i in range(3)]
    submitted = await fake.submit_modal(modal, {"prompt": "a collage of cats", "flags": "--ar 3:2 --seed 9"}, files)
    msg = await finished(fake, submitted)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.EDIT
    assert request.prompt == "a collage of cats" and request.seed == 9 and request.aspect_ratio == "3:2"
    assert [r.name for r in request.references] == ["ref0.png", "ref1.png", "ref2.png"]


async def test_edit_this_context_menu_uses_the_message_image(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                            service: Reelsmith) -> None:
    att = fake.upload(png(), "holiday.png", "image/png")
    target = {"id": str(fake.snowflake()), "channel_id": "930000000000000001", "author": {
        "id": "1", "username": "bob", "discriminator": "0", "avatar": None}, "content": "look", "timestamp":
        "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "attachments": [att], "embeds": [], "pinned": False, "type": 0}
    token = await fake.message_command("Edit this", target)
    modal = await callback(fake, token, kind=9)
    submitted = await fake.submit_modal(modal, {"prompt": "add fireworks"}, [])
    msg = await finished(fake, submitted)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.EDIT and request.prompt == "add fireworks"
    assert [r.name for r in request.references] == ["holiday.png"]

    no_image = {**target, "id": str(fake.snowflake()), "attachments": []}
    refused = await fake.message_command("Animate this", no_image)
    answer = await callback(fake, refused, kind=4)
    assert answer["data"]["flags"] == 64 and "no image" in answer["data"]["content"]
