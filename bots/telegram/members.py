"""Who sent a message and what they may do in that chat: `Requester` and `ChatContext` from Telegram objects."""

from __future__ import annotations

import logging
import time

from telegram import Bot, Chat, Message, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from core.context import ChatContext
from core.settings import Settings
from core.types import Requester

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def requester_for(chat: Chat, user: User | None, message_id: int | None = None,
                  thread_id: int | None = None) -> Requester:
    route: dict[str, str] = {}
    if message_id is not None:
        route["message_id"] = str(message_id)
    if thread_id is not None:
        route["thread_id"] = str(thread_id)
    return Requester(
        platform=PLATFORM,
        user_id=str(user.id) if user else str(chat.id),
        chat_id=str(chat.id),
        display_name=(user.full_name if user else chat.title or "")[:100],
        route=route,
    )


def thread_of(message: Message) -> int | None:
    """The forum topic a message is in (replies must go there too)."""
    return message.message_thread_id if message.is_topic_message else None


class ChatRoles:
    """Chat administrators count as moderators of their chat; getChatMember answers are cached briefly per chat."""

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self._cache: dict[int, dict[int, tuple[float, str]]] = {}

    async def status(self, chat_id: int, user_id: int) -> str | None:
        now = time.monotonic()
        entry = self._cache.get(chat_id, {}).get(user_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:  # unknown is not a moderator; ask again next time
            log.warning("getChatMember failed in chat %s (%s)", chat_id, type(exc).__name__)
            return None
        chat_cache = self._cache.setdefault(chat_id, {})
        if len(chat_cache) > 1000:  # bounded: drop the expired, or all if none expired
            for uid in [u for u, (exp, _s) in chat_cache.items() if exp <= now] or list(chat_cache):
                chat_cache.pop(uid, None)
        chat_cache[user_id] = (now + self.settings.telegram_admin_cache_s, str(member.status))
        return str(member.status)

    async def context_for(self, chat: Chat, user: User | None, *, sender_chat: Chat | None = None,
                          reply_to_media: bool = False) -> ChatContext:
        private = chat.type == ChatType.PRIVATE
        configured = user is not None and self.settings.is_configured_moderator(PLATFORM, str(user.id))
        roles: tuple[str, ...] = ()
        admin = False
        if sender_chat is not None and sender_chat.id == chat.id:
            admin = True  # only administrators can post as the group itself (anonymous admin)
        elif not private and user is not None:
            status = await self.status(chat.id, user.id)
            if status is not None:
                roles = (status,)
                admin = status in ADMIN_STATUSES
        return ChatContext(
            is_moderator=configured or admin,
            roles=roles,
            is_private=private,
            channel_id=str(chat.id),
            reply_to_media=reply_to_media,
            extra={"chat_type": str(chat.type)},
        )
