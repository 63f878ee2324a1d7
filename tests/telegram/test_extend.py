"""Extend through the real PTB bot and the fake Bot API: a video result's Extend button posts a longer clip,
and three presses make (and charge) one job."""

from __future__ import annotations

from typing import Any

import pytest

from bots.telegram.app import TelegramBot
from core.quotas.book import QuotaBook
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.extend.checks import assert_extended
from tests.telegram.conftest import ALICE, GROUP, answer_to, until
from tests.telegram.fake_api import FakeBotAPI


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"extend_s": 0.3})


async def test_extend_button_posts_a_longer_clip_once(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                     worker: Any) -> None:
    msg = api.message(GROUP, ALICE, "/video@ReelsmithBot a fox runs --frames 9")
    assert "Queued" in (await answer_to(api, msg)).params["text"]
    [video] = await until(lambda: api.sent("sendVideo"), timeout=90)
    job_id = video.params["caption"].split("job ")[1].split(" ")[0]
    assert button_data("extend", job_id) in video.callback_data()
    book = QuotaBook(service.redis, service.settings)
    before = (await book.usage("telegram", str(ALICE))).used
    for _ in range(3):  # a member's impatient taps: one job
        api.press(GROUP, ALICE, video.result, button_data("extend", job_id))
    await until(lambda: len(api.sent("answerCallbackQuery")) >= 3)
    longer = await until(lambda: api.sent("sendVideo")[1:], timeout=120)
    assert len(longer) == 1 and longer[0].json("reply_parameters")["message_id"] == video.result["message_id"]
    assert_extended(video.upload("video"), longer[0].upload("video"))
    new_job = longer[0].params["caption"].split("job ")[1].split(" ")[0]
    request = await service.queue.load_request(new_job)
    assert request is not None and request.source_job == job_id
    from core.quotas.costs import job_cost
    assert (await book.usage("telegram", str(ALICE))).used - before == job_cost(request, service.settings)
