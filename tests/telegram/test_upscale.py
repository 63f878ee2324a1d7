"""/upscale on Telegram: in the command menu with its /help line; without an image, answered and free."""

from __future__ import annotations

from bots.telegram.app import TelegramBot
from tests.telegram.conftest import ALICE, answer_to
from tests.telegram.fake_api import FakeBotAPI


async def test_upscale_is_on_the_menu_and_needs_an_image(api: FakeBotAPI, bot: TelegramBot) -> None:
    menu = api.menu()
    entries = {c["command"]: c["description"] for c in menu.json("commands")}
    assert entries["upscale"].startswith("make an attached (or replied-to) image 2x larger")
    answer = await answer_to(api, api.message(ALICE, ALICE, "/upscale --scale 4"))
    assert "/upscale needs an image" in answer.params["text"]
