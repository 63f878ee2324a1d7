"""Slash commands through the real discord.py client against the fake Discord, into a real worker."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bots.discord.client import ReelsmithBot
from core.labels import DIGITAL_SOURCE_TYPE
from tests.conftest import wait_for
from tests.discord.conftest import callback, finished
from tests.discord.fake_discord import FakeDiscord


async def test_imagine_defers_then_edits_status_into_labelled_result(fake: FakeDiscord, bot: ReelsmithBot,
                                                                     worker: Any) -> None:
    assert {c["name"] for c in fake.registered["global"]} >= {
        "imagine", "video", "edit", "animate", "meme", "quota", "help", "references", "Edit this", "Animate this"}
    token = await fake.slash("imagine", {"prompt": "a red fox", "ar": "16:9", "seed": 7})
    first = await callback(fake, token)
    assert first["type"] == 5  # deferred at once, before any slow work
    msg = await finished(fake, token)
    assert msg.content.startswith("\U0001f916 AI-generated with Reelsmith") and "seed 7" in msg.content
    [(name, data)] = msg.files
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (64, 32)
    assert DIGITAL_SOURCE_TYPE in img.info.get("XML:com.adobe.xmp", "")
    job_id = msg.content.split("job ")[1].split(" ")[0]
    assert msg.custom_ids == [f"rs:reroll:{job_id}", f"rs:vary:{job_id}", f"rs:animate:{job_id}",
                              f"rs:report:{job_id}"]
    assert msg.edits >= 2  # "Queued (position N)", progress, then the result: one message, edited
