"""Canvas through the Discord fake and a real worker: Pan right under a result, and Vary (Region) with the
/edit mask option and with "Edit this" on a message plus a mask in the form."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bots.discord.client import ReelsmithBot
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind
from tests.discord.conftest import callback, finished, job_id_of
from tests.discord.fake_discord import FakeDiscord


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"badge_enabled": False, "watermark_enabled": False})  # pixels compared


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _picture_and_mask() -> tuple[Image.Image, Image.Image]:
    picture = Image.effect_noise((64, 64), 80).convert("RGB")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))  # repaint the left half
    return picture, mask


async def test_pan_right_button_extends_the_width(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "a pier", "seed": 3}))
    source = Image.open(io.BytesIO(msg.files[0][1])).convert("RGB")
    job_id = job_id_of(msg.content)
    pressed = await fake.press(msg, button_data("pan_right", job_id))
    assert (await callback(fake, pressed))["type"] == 5
    panned_msg = await finished(fake, pressed)
    panned = Image.open(io.BytesIO(panned_msg.files[0][1])).convert("RGB")
    assert panned.size == (96, 64)
    assert panned.crop((0, 0, 64, 64)).tobytes() == source.tobytes()


async def test_edit_with_a_mask_option_repaints_only_its_white(fake: FakeDiscord, bot: ReelsmithBot,
                                                               service: Reelsmith, worker: Any) -> None:
    picture, mask = _picture_and_mask()
    token = await fake.slash("edit", {"prompt": "a window"}, files={
        "image": ("photo.png", _png(picture), "image/png"), "mask": ("mask.png", _png(mask), "image/png")})
    msg = await finished(fake, token)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.INPAINT
    out = Image.open(io.BytesIO(msg.files[0][1])).convert("RGB")
    assert out.crop((32, 0, 64, 64)).tobytes() == picture.crop((32, 0, 64, 64)).tobytes()


async def test_edit_this_with_a_mask_in_the_form(fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith,
                                                 worker: Any) -> None:
    picture, mask = _picture_and_mask()
    att = fake.upload(_png(picture), "holiday.png", "image/png")
    target = {"id": str(fake.snowflake()), "channel_id": "930000000000000001", "author": {
        "id": "1", "username": "bob", "discriminator": "0", "avatar": None}, "content": "look", "timestamp":
        "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "attachments": [att], "embeds": [], "pinned": False, "type": 0}
    modal = await callback(fake, await fake.message_command("Edit this", target), kind=9)
    msg = await finished(fake, await fake.submit_modal(modal, {"prompt": "a door"},
                                                       [("mask.png", _png(mask), "image/png")]))
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.INPAINT
    assert [r.name for r in request.references] == ["holiday.png", "mask.png"]
