"""What an adapter knows about where and by whom a command was sent, beyond the request itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Asks the platform whether a user id (as core sees it) belongs to the chat/server a command was sent in.
MemberCheck = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class ChatContext:
    """Facts only the platform can tell; the adapter fills them in, core decides with them.

    `is_moderator` means moderator *in this chat* (Discord Manage Server or a configured role id;
    Telegram chat administrator); rights never carry over to another chat (`Requester.scope`).
    """

    is_moderator: bool = False
    roles: tuple[str, ...] = ()  # Discord role ids ("role_id" and "guild_id:role_id"), mapped to quota tiers by core
    is_private: bool = False
    # The channel whose on/off switches apply (a Discord thread's parent channel); "" where there are none.
    channel_id: str = ""
    nsfw_allowed: bool = False
    reply_to_media: bool = False  # the command replies to a message that held media
    extra: dict[str, str] = field(default_factory=dict)
    # Scopes whose bans and pause also hold here: the Discord server a member's own (user) install is used in,
    # which is not the request's scope (`Requester.scope`, the install's own) but never a way around its bans.
    outer_scopes: tuple[str, ...] = ()
    # Whether a user is a member of this chat/server; None where the adapter cannot tell (then only configured
    # owners/moderators may name a target).
    is_member: MemberCheck | None = field(default=None, compare=False)
