"""Telegram: --model through the shared grammar, /models in the menu and in chat."""

from __future__ import annotations

from bots.telegram.app import TelegramBot
from core.service.facade import Reelsmith
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to
from tests.telegram.fake_api import FakeBotAPI


async def test_model_flag_and_models_command(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    menu = api.menu()
    assert "models" in [c["command"] for c in menu.json("commands")]
    listing = await answer_to(api, api.message(GROUP, BOB, "/models@ReelsmithBot"))
    assert "\u2022 reelsmith-tiny-video - text-to-video" in listing.params["text"]

    wrong = await answer_to(api, api.message(ALICE, ALICE, "/video a fox --model reelsmith-tiny-image"))
    assert "'reelsmith-tiny-image' can't make a video from text" in wrong.params["text"]
    assert await service.queue.depth() == 0
    ok = await answer_to(api, api.message(ALICE, ALICE, "/video a fox --model Reelsmith-Tiny-Video"))
    assert "Queued (position 1)" in ok.params["text"]
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.model == "reelsmith-tiny-video"
