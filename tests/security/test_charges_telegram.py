"""Through the real Telegram bot: a banned member's photos are downloaded, checked and answered, but never stored."""

from __future__ import annotations

from bots.telegram.app import TelegramBot
from core.service.facade import Reelsmith
from tests.security.charges_helpers import blob_ids, noise_png
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to, api, bot, settings  # noqa: F401
from tests.telegram.fake_api import FakeBotAPI


async def test_banned_members_photos_are_not_stored(api: FakeBotAPI, bot: TelegramBot,  # noqa: F811
                                                    service: Reelsmith) -> None:
    api.set_member(GROUP, ALICE, "administrator")
    api.set_member(GROUP, BOB, "member")  # moderators act only on members of their chat
    banned = await answer_to(api, api.message(GROUP, ALICE, f"/mod ban {BOB} 1d spamming"))
    assert "banned" in banned.params["text"]
    before = await blob_ids(service)
    for i in range(3):
        photo = api.photo(noise_png(i, size=128))
        answer = await answer_to(api, api.message(GROUP, BOB, caption="/edit make it snowy", media=photo))
        assert "banned" in answer.params["text"], answer.params["text"]
    assert [c for c in api.calls if c.method == "download"]  # the bot did fetch them
    assert await blob_ids(service) == before and await service.queue.depth() == 0
