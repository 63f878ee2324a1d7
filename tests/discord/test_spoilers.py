"""Spoilers on Discord (issue 20): the `spoiler` option (--spoiler) and a server's default (`/mod spoiler on`) post
the result as a `SPOILER_` attachment; without either it is posted openly. Real worker, fake Discord."""

from __future__ import annotations

from typing import Any

from bots.discord.client import ReelsmithBot
from tests.discord.conftest import finished
from tests.discord.fake_discord import MANAGE_GUILD, MEMBER_PERMS, FakeDiscord, person
from tests.security.mod_helpers import discord_says

MOD = person(951000000000000001, "Maud")


async def test_the_spoiler_option_hides_the_result(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    hidden = await finished(fake, await fake.slash("imagine", {"prompt": "a plot twist", "spoiler": True}))
    assert hidden.files and all(name.startswith("SPOILER_") for name, _ in hidden.files), hidden.files
    assert all(a["filename"].startswith("SPOILER_") for a in hidden.payload["attachments"])
    shown = await finished(fake, await fake.slash("imagine", {"prompt": "a plot twist"}))
    assert shown.files and not any(name.startswith("SPOILER_") for name, _ in shown.files), shown.files


async def test_a_server_default_hides_every_result_until_turned_off(fake: FakeDiscord, bot: ReelsmithBot,
                                                                   worker: Any) -> None:
    manager = {"user": MOD, "permissions": MEMBER_PERMS | MANAGE_GUILD}
    on = await discord_says(fake, "mod", "spoiler on", **manager)
    assert "spoiler" in on and not on.startswith("\u26a0"), on
    hidden = await finished(fake, await fake.slash("imagine", {"prompt": "an ending"}))
    assert hidden.files and hidden.files[0][0].startswith("SPOILER_"), hidden.files
    assert "spoiler" in await discord_says(fake, "mod", "status", **manager)

    off = await discord_says(fake, "mod", "spoiler off", **manager)
    assert not off.startswith("\u26a0"), off
    shown = await finished(fake, await fake.slash("imagine", {"prompt": "an ending"}))
    assert shown.files and not shown.files[0][0].startswith("SPOILER_"), shown.files
