"""Extend through the real discord.py bot and the fake Discord: a video result's Extend button posts a longer
clip; three presses make (and charge) one job."""

from __future__ import annotations

from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.discord.conftest import finished, job_id_of
from tests.discord.fake_discord import USER_ID, FakeDiscord
from tests.extend.checks import assert_extended


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.extend_s = 0.3
    return settings


async def test_extend_button_posts_a_longer_clip_once(fake: FakeDiscord, bot: ReelsmithBot, service: Reelsmith,
                                                     worker: Any) -> None:
    msg = await finished(fake, await fake.slash("video", {"prompt": "a fox runs", "frames": 9}))
    job_id = job_id_of(msg.content)
    assert button_data("extend", job_id) in msg.custom_ids
    book = QuotaBook(service.redis, service.settings)
    before = (await book.usage("discord", str(USER_ID))).used
    tokens = [await fake.press(msg, button_data("extend", job_id)) for _ in range(3)]
    longer = [m for m in [await finished(fake, t) for t in tokens[:1]] if m.files]
    assert len(longer) == 1
    assert_extended(msg.files[0][1], longer[0].files[0][1])
    request = await service.queue.load_request(job_id_of(longer[0].content))
    assert request is not None and request.source_job == job_id
    assert (await book.usage("discord", str(USER_ID))).used - before == job_cost(request, service.settings)
