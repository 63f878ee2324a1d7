# ruff: noqa: F811  (pytest fixtures imported from the Discord suite are parameters here)
"""Discord moderation rules the server, and roles count by id (issue 14, section 1), through the real discord.py
client and the fake Discord.

A ban made in one channel holds in every channel and thread of that server and in DMs with the bot; channel
switches stay per channel (a thread follows its parent); a role that merely has the configured role's *name*
gives nothing.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bots.discord.client import ReelsmithBot
from core.ops.config_check import describe_validation_error
from core.settings import QuotaTier, Settings
from tests.discord.conftest import bot, fake, start_bot  # noqa: F401  (fixtures)
from tests.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    MEMBER_PERMS,
    MOD_ROLE_ID,
    THREAD_ID,
    FakeDiscord,
    person,
    role,
)
from tests.security.mod_helpers import discord_says, for_discord

OTHER_CHANNEL_ID = 930000000000000009
ROGUE_GUILD_ID = 921000000000000001
TIER_ROLE_ID = 961000000000000001
IMPOSTOR_MOD_ROLE_ID = 962000000000000001
IMPOSTOR_TIER_ROLE_ID = 962000000000000002
MOD = person(951000000000000001, "Maud")
VICTIM = person(951000000000000002, "Victor")
BYSTANDER = person(951000000000000003, "Bea")
MANAGER = MEMBER_PERMS | MANAGE_GUILD


@pytest.fixture
def settings(settings: Settings, fake: FakeDiscord) -> Settings:
    return for_discord(settings, fake, quota_max_in_flight=10,
                       quota_tiers={"supporter": QuotaTier(credits=100)},
                       quota_tier_roles={f"{GUILD_ID}:{TIER_ROLE_ID}": "supporter"},
                       discord_moderator_roles=[f"{GUILD_ID}:{MOD_ROLE_ID}"])


def refused(text: str) -> bool:
    return text.startswith("\u26a0")


async def test_a_server_ban_holds_in_every_channel_thread_and_dm(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    fake.add_member(VICTIM)
    banned = await discord_says(fake, "mod", f"ban <@{VICTIM['id']}> 1d spam", user=MOD, permissions=MANAGER)
    assert not refused(banned) and "banned" in banned, banned

    elsewhere = await discord_says(fake, "imagine", "a fox", user=VICTIM, channel_id=OTHER_CHANNEL_ID)
    assert refused(elsewhere) and "banned from generating in this chat" in elsewhere, elsewhere
    thread = await discord_says(fake, "imagine", "a fox", user=VICTIM, channel_id=THREAD_ID, thread_of=CHANNEL_ID)
    assert refused(thread) and "banned" in thread, thread
    dm = await discord_says(fake, "imagine", "a fox", user=VICTIM, dm=True)
    assert refused(dm) and "private chats" in dm, dm
    assert "Queued" in await discord_says(fake, "imagine", "a fox", user=BYSTANDER, channel_id=OTHER_CHANNEL_ID)

    lifted = await discord_says(fake, "mod", f"unban <@{VICTIM['id']}>", user=MOD, permissions=MANAGER,
                                channel_id=OTHER_CHANNEL_ID)  # any channel of the server
    assert not refused(lifted), lifted
    assert "Queued" in await discord_says(fake, "imagine", "a fox", user=VICTIM, dm=True)
    # Only members of the server can be banned by its moderators.
    stranger = await discord_says(fake, "mod", "ban <@951000000000000009>", user=MOD, permissions=MANAGER)
    assert refused(stranger) and "not a member" in stranger, stranger


async def test_channel_switches_stay_per_channel_and_threads_follow_their_parent(fake: FakeDiscord,
                                                                                bot: ReelsmithBot) -> None:
    off = await discord_says(fake, "mod", "channel off", user=MOD, permissions=MANAGER)
    assert not refused(off), off
    here = await discord_says(fake, "imagine", "a fox", user=BYSTANDER)
    assert refused(here) and "turned off in this channel" in here, here
    thread = await discord_says(fake, "imagine", "a fox", user=BYSTANDER, channel_id=THREAD_ID,
                                thread_of=CHANNEL_ID)
    assert refused(thread) and "turned off in this channel" in thread, thread
    assert "Queued" in await discord_says(fake, "imagine", "a fox", user=BYSTANDER, channel_id=OTHER_CHANNEL_ID)


def test_role_names_are_refused_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSMITH_DISCORD_MODERATOR_ROLES", '["Reelsmith Mods"]')
    monkeypatch.setenv("REELSMITH_QUOTA_TIER_ROLES", '{"supporter": "supporter"}')
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, quota_tiers={"supporter": QuotaTier(credits=100)})
    problems = " ".join(describe_validation_error(caught.value))
    assert "REELSMITH_DISCORD_MODERATOR_ROLES" in problems and "'Reelsmith Mods'" in problems, problems
    assert "REELSMITH_QUOTA_TIER_ROLES" in problems and "role ids" in problems, problems


async def test_a_role_with_the_same_name_but_another_id_gives_nothing(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    fake.guild_roles[GUILD_ID].append(role(TIER_ROLE_ID, "supporter"))
    await fake.add_guild(GUILD_ID, fake.guild_roles[GUILD_ID])  # the bot learns the new role
    # Anyone's own server, with roles named like the configured ones.
    await fake.add_guild(ROGUE_GUILD_ID, [role(IMPOSTOR_MOD_ROLE_ID, "Reelsmith Mods"),
                                          role(IMPOSTOR_TIER_ROLE_ID, "supporter")])
    impostor = {"user": VICTIM, "guild_id": ROGUE_GUILD_ID, "channel_id": ROGUE_GUILD_ID + 1,
                "roles": (IMPOSTOR_MOD_ROLE_ID, IMPOSTOR_TIER_ROLE_ID)}
    paused = await discord_says(fake, "mod", "pause", **impostor)
    assert refused(paused) and "Only this chat's moderators" in paused, paused
    quota = await discord_says(fake, "quota", "", **impostor)
    assert "Credits: 30 of 30 left." in quota and "supporter" not in quota, quota

    real = {"user": MOD, "roles": (MOD_ROLE_ID, TIER_ROLE_ID)}
    status = await discord_says(fake, "mod", "status", **real)
    assert not refused(status) and "kill switch" in status, status
    quota = await discord_says(fake, "quota", "", **real)
    assert "Credits: 100 of 100 left (supporter tier)." in quota, quota
