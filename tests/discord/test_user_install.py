"""The user-installable app (issue 20): a member who installed Reelsmith to their account uses it in DMs, group DMs
and servers the bot is not in; results come through the interaction's token, or by DM with a note once it has
expired; the member's own install is its own scope, and a server's ban still holds there.

Through the real discord.py client, the fake Discord, a real Redis and a real worker.
"""

from __future__ import annotations

from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from bots.discord.delivery import DM_USER_INSTALL_NOTE
from core.i18n import from_platform, translate, use_locale
from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.discord.conftest import finished, job_id_of
from tests.discord.fake_discord import (
    DM_CHANNEL_ID,
    GROUP_DM_ID,
    GUILD_ID,
    MANAGE_GUILD,
    MEMBER_PERMS,
    USER_ID,
    FakeDiscord,
    Sent,
    person,
)
from tests.security.mod_helpers import discord_says

STRANGE_GUILD_ID = 922000000000000001  # a server that never added the bot
STRANGE_CHANNEL_ID = 932000000000000001
MOD = person(951000000000000001, "Maud")
VICTIM = person(951000000000000002, "Victor")


def _channel_posts(fake: FakeDiscord, channel_id: int) -> list[str]:
    return [r for r in fake.requests if r == f"POST /api/v10/channels/{channel_id}/messages"]


async def test_every_command_is_installable_to_an_account_and_usable_everywhere(fake: FakeDiscord,
                                                                               bot: ReelsmithBot) -> None:
    commands = fake.registered["global"]
    assert commands, "the bot registered no commands"
    for command in commands:
        assert sorted(command.get("integration_types") or []) == [0, 1], command["name"]
        assert sorted(command.get("contexts") or []) == [0, 1, 2], command["name"]


async def test_dm_through_the_member_s_own_install(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                   service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a lighthouse", "seed": 5}, dm=True, user_install=True)
    msg = await finished(fake, token)
    assert msg.files and "AI-generated" in msg.content, msg.content
    assert int(msg.payload["channel_id"]) == DM_CHANNEL_ID
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.requester.scope == str(DM_CHANNEL_ID)


async def test_group_dm_result_comes_through_the_interaction(fake: FakeDiscord, bot: ReelsmithBot, worker: Any,
                                                              service: Reelsmith) -> None:
    token = await fake.slash("imagine", {"prompt": "a picnic"}, group_dm=True)
    msg = await finished(fake, token)
    assert msg.files and "AI-generated" in msg.content, msg.content
    assert int(msg.payload["channel_id"]) == GROUP_DM_ID and msg.via == "interaction"
    assert not _channel_posts(fake, GROUP_DM_ID)  # the bot is no member of a group DM: it never tried
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.requester.scope == f"user:{USER_ID}"


async def test_a_server_the_bot_is_not_in_is_the_install_s_own_scope(fake: FakeDiscord, bot: ReelsmithBot,
                                                                      worker: Any, service: Reelsmith) -> None:
    # Manage Server there moderates nothing for the bot: that server never added it.
    paused = await discord_says(fake, "mod", "pause", user_install=True, guild_id=STRANGE_GUILD_ID,
                                channel_id=STRANGE_CHANNEL_ID, permissions=MEMBER_PERMS | MANAGE_GUILD)
    assert paused.startswith("\u26a0") and "moderators" in paused, paused
    token = await fake.slash("imagine", {"prompt": "a lantern"}, user_install=True, guild_id=STRANGE_GUILD_ID,
                             channel_id=STRANGE_CHANNEL_ID)
    msg = await finished(fake, token)
    assert msg.files and int(msg.payload["channel_id"]) == STRANGE_CHANNEL_ID
    assert not _channel_posts(fake, STRANGE_CHANNEL_ID)
    request = await service.queue.load_request(job_id_of(msg.content))
    assert request is not None and request.requester.scope == f"user:{USER_ID}"
    assert request.requester.route["guild_id"] == str(STRANGE_GUILD_ID)


async def test_a_server_ban_holds_for_the_member_s_own_install_there(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    fake.add_member(VICTIM)
    banned = await discord_says(fake, "mod", f"ban <@{VICTIM['id']}> 1d spam", user=MOD,
                                permissions=MEMBER_PERMS | MANAGE_GUILD)
    assert "banned" in banned and not banned.startswith("\u26a0"), banned
    # Both installs: the server's and the member's own.
    both = await discord_says(fake, "imagine", "a fox", user=VICTIM, user_install=True)
    assert both.startswith("\u26a0") and "banned" in both, both
    # The server removes the bot; the ban stays, and the member's own install does not get around it.
    fake.guild_roles.pop(GUILD_ID)
    alone = await discord_says(fake, "imagine", "a fox", user=VICTIM, user_install=True)
    assert alone.startswith("\u26a0") and "banned from generating in this chat" in alone, alone
    # Elsewhere their own install works (the ban is that server's).
    free = await discord_says(fake, "imagine", "a fox", user=VICTIM, user_install=True, guild_id=STRANGE_GUILD_ID,
                              channel_id=STRANGE_CHANNEL_ID)
    assert "Queued" in free, free


@pytest.mark.parametrize(("locale", "label"), [("en-US", "AI-generated"), ("de", "AI-generiert")])
async def test_expired_token_sends_the_result_by_dm_with_a_note(fake: FakeDiscord, bot: ReelsmithBot,
                                                                start_worker: Any, locale: str, label: str) -> None:
    token = await fake.slash("imagine", {"prompt": "a slow lantern"}, user_install=True, guild_id=STRANGE_GUILD_ID,
                             channel_id=STRANGE_CHANNEL_ID, locale=locale)

    async def queued() -> Sent | None:
        original = fake.original(token)
        # Accepted: its status answer (in the member's language), not a refusal.
        accepted = original is not None and original.content and not original.content.startswith("\u26a0")
        return original if accepted else None

    await wait_for(queued)
    fake.expire(token)  # Discord's 15 minutes are over
    await start_worker()

    async def dm() -> Sent | None:
        return next((m for m in fake.in_channel(DM_CHANNEL_ID) if m.files), None)

    msg: Sent = await wait_for(dm, timeout=60)
    with use_locale(from_platform(locale)):  # the note in the member's language, like the caption
        note = translate(DM_USER_INSTALL_NOTE)
    assert label in msg.content and note in msg.content, msg.content
    assert locale == "en-US" or note != DM_USER_INSTALL_NOTE
    assert not _channel_posts(fake, STRANGE_CHANNEL_ID)
    original = fake.original(token)
    assert original is not None and not original.files
