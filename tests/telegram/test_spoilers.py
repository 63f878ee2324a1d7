"""Spoilers on Telegram (issue 20): --spoiler sends the photo with `has_spoiler`; without it, no spoiler."""

from __future__ import annotations

from typing import Any

from bots.telegram.app import TelegramBot
from tests.telegram.conftest import ALICE, answer_to, until
from tests.telegram.fake_api import FakeBotAPI


def _spoiler(value: Any) -> bool:
    return str(value).lower() == "true"


async def test_spoiler_flag_sends_the_photo_with_has_spoiler(api: FakeBotAPI, bot: TelegramBot, worker: Any) -> None:
    assert "Queued" in (await answer_to(api, api.message(ALICE, ALICE, "/imagine a twist --spoiler"))).params["text"]
    [hidden] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    assert _spoiler(hidden.params.get("has_spoiler")), hidden.params
    assert hidden.params["caption"].startswith("\U0001f916 AI-generated")

    assert "Queued" in (await answer_to(api, api.message(ALICE, ALICE, "/imagine a twist"))).params["text"]
    photos = await until(lambda: (lambda p: p if len(p) == 2 else None)(api.sent("sendPhoto")), timeout=90)
    assert not _spoiler(photos[1].params.get("has_spoiler")), photos[1].params
