"""/styles on Telegram: per group, its administrators add and remove, members list, and the menu has it."""

from __future__ import annotations

from bots.telegram.app import TelegramBot
from core.service.facade import Reelsmith
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to
from tests.telegram.fake_api import FakeBotAPI


async def test_styles_per_group_for_admins(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    menu = api.menu()
    assert "styles" in {c["command"] for c in menu.json("commands")}
    api.set_member(GROUP, ALICE, "administrator")
    api.set_member(GROUP, BOB, "member")
    refused = await answer_to(api, api.message(GROUP, BOB, "/styles add noir {prompt}, film noir"))
    assert "moderators" in refused.params["text"]
    added = await answer_to(api, api.message(GROUP, ALICE, "/styles add noir {prompt}, film noir --no color"))
    assert "Added style noir" in added.params["text"]
    listing = await answer_to(api, api.message(GROUP, BOB, "/styles"))
    assert "noir - {prompt}, film noir; avoids: color" in listing.params["text"]
    elsewhere = await answer_to(api, api.message(BOB, BOB, "/styles"))  # Bob's private chat is another scope
    assert "no styles yet" in elsewhere.params["text"]
    queued = await answer_to(api, api.message(GROUP, BOB, "/imagine a detective --style noir"))
    assert "Queued" in queued.params["text"]
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.prompt == "a detective, film noir" and request.negative_prompt == "color"
    removed = await answer_to(api, api.message(GROUP, ALICE, "/styles remove noir"))
    assert "Removed style noir" in removed.params["text"]
