"""--n 4 on Discord: four labelled attachments in one message (or one numbered 2x2 grid with
REELSMITH_DISCORD_GRID), U1..U4 / V1..V4 / S1..S4 buttons; a triple click on U1 runs and charges once."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image

from bots.discord.client import ReelsmithBot
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service import image_ref
from core.service.facade import Reelsmith
from core.types import JobKind
from tests.conftest import wait_for
from tests.discord.conftest import finished, job_id_of
from tests.discord.fake_discord import FakeDiscord


async def test_four_attachments_and_a_triple_click_on_u1_charges_once(fake: FakeDiscord, bot: ReelsmithBot,
                                                                       worker: Any, service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a red fox", "seed": 3, "images": 4})
    msg = await finished(fake, token)
    assert len(msg.files) == 4
    for name, data in msg.files:
        img = Image.open(io.BytesIO(data))
        assert img.size == (64, 64) and DIGITAL_SOURCE_TYPE in img.info.get("XML:com.adobe.xmp", "")
        assert name.endswith(".png")
    job_id = job_id_of(msg.content)
    assert "4 images" in msg.content and "seeds 3, 4, 5, 6" in msg.content
    for action in ("upscale", "vary", "varyx"):
        assert [f"rs:{action}:{image_ref(job_id, i)}" for i in range(1, 5)] == [
            c for c in msg.custom_ids if c.startswith(f"rs:{action}:")]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.n_images == 4

    book = QuotaBook(service.redis, service.settings)
    user = request.requester.user_id
    before = (await book.usage("discord", user)).used
    u1 = f"rs:upscale:{image_ref(job_id, 1)}"
    await asyncio.gather(*(fake.press(msg, u1) for _ in range(3)))

    async def upscaled() -> Any:
        jobs = [m for m in fake.messages.values() if m.files and m.id != msg.id]
        return jobs or None
    [big] = await wait_for(upscaled, timeout=120)
    [(_name, data)] = big.files
    assert Image.open(io.BytesIO(data)).size == (128, 128)  # exactly 2x image 1
    up = await service.queue.load_request(job_id_of(big.content))
    assert up is not None and up.kind == JobKind.UPSCALE
    charged = (await book.usage("discord", user)).used - before
    assert charged == job_cost(up, service.settings)  # three clicks, one job, one charge


async def test_grid_setting_posts_one_numbered_grid(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                    service: Reelsmith) -> None:
    service.settings.discord_grid = True  # the delivery reads it per reply
    token = await fake.slash("imagine", {"prompt": "a red fox", "images": 4})
    msg = await finished(fake, token)
    [(name, data)] = msg.files
    grid = Image.open(io.BytesIO(data))
    assert name.endswith("-grid.png") and grid.size == (64 * 2 + 4, 64 * 2 + 4)
    assert DIGITAL_SOURCE_TYPE in grid.info.get("XML:com.adobe.xmp", "")
    job_id = job_id_of(msg.content)
    assert f"rs:upscale:{image_ref(job_id, 4)}" in msg.custom_ids


async def test_the_images_note_is_in_the_members_language(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "a red fox", "images": 2}, locale="de"))
    assert len(msg.files) == 2
    assert "2 Bilder (1-2, wie die Knöpfe sie nummerieren), Seeds " in msg.content, msg.content
