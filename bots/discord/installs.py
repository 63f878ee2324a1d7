"""Where an interaction comes from: a server that installed the app, a DM with the bot, or a place the app
reaches only through the member's own (user) install: a group DM, or a server the bot is not in.

Discord says which installation authorised an interaction in `authorizing_integration_owners`
(0 = GUILD_INSTALL: the server's id, or "0" in a DM with the bot; 1 = USER_INSTALL: the member's id) and
where it was used in `context` (0 guild, 1 bot DM, 2 private channel). Where only the member's install
is present, the bot cannot post or read there: everything goes through the interaction's token, and
the member's own install is its own scope (`user:<id>`) under which that server's bans still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

USER_SCOPE_PREFIX = "user:"


@dataclass(frozen=True)
class Placement:
    """What the bot may do where an interaction was used."""

    guild_id: int | None  # the server it was used in (installed there or not)
    user_install_only: bool  # reached only through the member's own install: the bot is not in this place
    group_dm: bool  # a group DM (private channel) the bot is never a member of

    @property
    def can_post_here(self) -> bool:
        """Whether the bot itself may post in this channel (else only the interaction token reaches it)."""
        return not self.user_install_only

    @property
    def in_server(self) -> bool:
        return self.guild_id is not None


def placement(interaction: discord.Interaction[Any]) -> Placement:
    """Where `interaction` was used and through which installation."""
    group_dm = bool(interaction.context.private_channel) or isinstance(interaction.channel, discord.GroupChannel)
    if interaction.guild_id is not None:
        # The server's own install names the server; the member's alone means the bot is not a member there.
        # (discord.py keeps the owners private; a payload without them predates user installs: a server's.)
        owners: dict[int, int] = getattr(interaction, "_integration_owners", {}) or {}
        only_user = bool(owners) and not interaction.is_guild_integration()
        return Placement(interaction.guild_id, only_user, group_dm=False)
    return Placement(None, user_install_only=group_dm, group_dm=group_dm)


def user_scope(user_id: int | str) -> str:
    """The scope of a member's own install: their chat budgets, switches and bans there (`Requester.scope`)."""
    return f"{USER_SCOPE_PREFIX}{user_id}"
