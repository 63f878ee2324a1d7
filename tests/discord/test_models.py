"""Discord: the `model` option (autocomplete with this server's models, forwarded as --model) and /models."""

from __future__ import annotations

from bots.discord.client import ReelsmithBot
from tests.discord.conftest import callback, private_answer
from tests.discord.fake_discord import MANAGE_GUILD, MEMBER_PERMS, FakeDiscord


async def _choices(fake: FakeDiscord, command: str, current: str = "") -> list[str]:
    answer = await callback(fake, await fake.autocomplete(command, "model", current), kind=8)
    return [c["value"] for c in answer["data"]["choices"]]


async def test_model_option_autocompletes_this_servers_models_for_the_task(fake: FakeDiscord,
                                                                          bot: ReelsmithBot) -> None:
    imagine = next(c for c in fake.registered["global"] if c["name"] == "imagine")
    option = next(o for o in imagine["options"] if o["name"] == "model")
    assert option.get("autocomplete") is True and option.get("required", False) is False
    assert await _choices(fake, "imagine") == ["reelsmith-tiny-image"]
    assert await _choices(fake, "animate", "TINY") == ["reelsmith-tiny-video"]
    assert await _choices(fake, "video", "zebra") == []

    # A server moderator turns the image model off: the option no longer offers it there.
    deny = await fake.slash("models", {"text": "deny reelsmith-tiny-image"}, permissions=MEMBER_PERMS | MANAGE_GUILD)
    assert "turned off in this chat" in (await private_answer(fake, deny)).content
    assert await _choices(fake, "imagine") == []


async def test_model_option_becomes_the_flag_and_models_lists(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    wrong = await fake.slash("imagine", {"prompt": "a fox", "model": "nope"})
    assert "no model called 'nope'" in (await private_answer(fake, wrong)).content
    listing = await fake.slash("models")
    text = (await private_answer(fake, listing)).content
    assert "\u2022 reelsmith-tiny-image - text-to-image, image-to-image" in text
    assert "\u2022 reelsmith-tiny-video - text-to-video, image-to-video, video-to-video" in text


async def test_upscale_offers_the_models_that_can_upscale(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    # No upscaler configured: the image model refines a resized copy, so it is the one offered.
    assert await _choices(fake, "upscale") == ["reelsmith-tiny-image"]
