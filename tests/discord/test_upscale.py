"""/upscale on Discord: a slash command with an image option and a scale choice, into a real worker."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bots.discord.client import ReelsmithBot
from core.service.facade import Reelsmith
from core.types import JobKind
from tests.discord.conftest import finished, job_id_of, png
from tests.discord.fake_discord import FakeDiscord


async def test_upscale_slash_command_takes_an_image_and_a_scale(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                                service: Reelsmith) -> None:
    [command] = [c for c in fake.registered["global"] if c["name"] == "upscale"]
    options = {o["name"]: o for o in command["options"]}
    assert options["image"]["type"] == 11 and options["image"]["required"]  # 11: an attachment
    assert [c["value"] for c in options["scale"]["choices"]] == [2, 4]
    token = await fake.slash("upscale", {"scale": 2}, files={"image": ("small.png", png(), "image/png")})
    msg = await finished(fake, token)
    [(_name, data)] = msg.files
    assert Image.open(io.BytesIO(data)).size == (160, 120)  # the 80x60 image, 2x (within the tiny 256 px cap)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.kind == JobKind.UPSCALE and (request.width, request.height) == (160, 120)
