"""What an adapter knows about where and by whom a command was sent, beyond the request itself."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChatContext:
    """Facts only the platform can tell; the adapter fills them in, core decides with them.

    `is_moderator` means moderator *in this chat* (Discord Manage Server or a configured role;
    Telegram chat administrator); rights never carry over to another chat.
    """

    is_moderator: bool = False
    roles: tuple[str, ...] = ()  # platform role names / ids, mapped to quota tiers by core
    is_private: bool = False
    channel_id: str = ""
    nsfw_allowed: bool = False
    reply_to_media: bool = False  # the command replies to a message that held media
    extra: dict[str, str] = field(default_factory=dict)
