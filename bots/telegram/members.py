"""Who sent a message and what they may do in that chat: `Requester` and `ChatContext` from Telegram objects."""

from __future__ import annotations

import logging
import time

from telegram import Bot, Chat, ChatMember, ChatMemberRestricted, Message, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from core.context import ChatContext, MemberCheck
from core.settings import Settings
from core.types import Requester

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
MEMBER_STATUSES = ADMIN_STATUSES | {ChatMemberStatus.MEMBER}
ANONYMOUS_PREFIX = "anon:"  # an anonymous admin's identity: one per chat, never GroupAnonymousBot's shared id


def is_anonymous_admin(chat: Chat, sender_chat: Chat | None) -> bool:
    """Posted as the group itself (the GroupAnonymousBot sender): only that group's administrators can."""
    return sender_chat is not None and sender_chat.id == chat.id


def requester_for(chat: Chat, user: User | None, message_id: int | None = None,
                  thread_id: int | None = None, sender_chat: Chat | None = None) -> Requester:
    route: dict[str, str] = {}
    if message_id is not None:
        route["message_id"] = str(message_id)
    if thread_id is not None:
        route["thread_id"] = str(thread_id)
    if is_anonymous_admin(chat, sender_chat) or user is None:
        # Every group's anonymous admins share GroupAnonymousBot's id: key them per chat instead.
        user_id, name = f"{ANONYMOUS_PREFIX}{chat.id}", chat.title or ""
    else:
        user_id, name = str(user.id), user.full_name
    return Requester(platform=PLATFORM, user_id=user_id, chat_id=str(chat.id), display_name=name[:100], route=route,
                     locale=member_locale(chat, user, sender_chat))


def member_locale(chat: Chat, user: User | None, sender_chat: Chat | None = None) -> str:
    """The sender's app language (an IETF tag, e.g. "ja", "pt-br"); anonymous admins post as the group: none."""
    return (user.language_code or "") if user is not None and not is_anonymous_admin(chat, sender_chat) else ""


def thread_of(message: Message) -> int | None:
    """The forum topic a message is in (replies must go there too)."""
    return message.message_thread_id if message.is_topic_message else None


def _belongs(member: ChatMember) -> bool:
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in MEMBER_STATUSES


class ChatRoles:
    """Chat administrators count as moderators of their chat; getChatMember answers are cached briefly per chat."""

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self._cache: dict[int, dict[int, tuple[float, str, bool]]] = {}

    async def _lookup(self, chat_id: int, user_id: int) -> tuple[str, bool] | None:
        """(status, is a member) of a user in a chat; None if Telegram could not tell."""
        now = time.monotonic()
        entry = self._cache.get(chat_id, {}).get(user_id)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:  # unknown is not a moderator (nor a member); ask again next time
            log.warning("getChatMember failed in chat %s (%s)", chat_id, type(exc).__name__)
            return None
        found = (str(member.status), _belongs(member))
        if not found[1]:
            return found  # not cached: someone who just joined must not be refused as a stranger for a minute
        chat_cache = self._cache.setdefault(chat_id, {})
        if len(chat_cache) > 1000:  # bounded: drop the expired, or all if none expired
            for uid in [u for u, (exp, _s, _m) in chat_cache.items() if exp <= now] or list(chat_cache):
                chat_cache.pop(uid, None)
        chat_cache[user_id] = (now + self.settings.telegram_admin_cache_s, *found)
        return found

    async def status(self, chat_id: int, user_id: int) -> str | None:
        found = await self._lookup(chat_id, user_id)
        return None if found is None else found[0]

    def member_check(self, chat: Chat) -> MemberCheck:
        """Whether a user id (as core names members) belongs to this chat, from getChatMember."""
        async def is_member(user_id: str) -> bool:
            if user_id.startswith(ANONYMOUS_PREFIX):
                return user_id == f"{ANONYMOUS_PREFIX}{chat.id}"
            if not user_id.lstrip("-").isdigit() or len(user_id) > 20:
                return False
            if chat.type == ChatType.PRIVATE:
                return int(user_id) == chat.id
            found = await self._lookup(chat.id, int(user_id))
            return found is not None and found[1]
        return is_member

    async def context_for(self, chat: Chat, user: User | None, *, sender_chat: Chat | None = None,
                          reply_to_media: bool = False) -> ChatContext:
        private = chat.type == ChatType.PRIVATE
        anonymous = is_anonymous_admin(chat, sender_chat)
        # GroupAnonymousBot's id is shared by every group's anonymous admins: it never matches a configured id.
        configured = (not anonymous and user is not None
                      and self.settings.is_configured_moderator(PLATFORM, str(user.id)))
        admin = False
        if anonymous:
            admin = True  # only administrators can post as the group itself, and only for that group
        elif not private and user is not None:
            status = await self.status(chat.id, user.id)
            admin = status in ADMIN_STATUSES
        return ChatContext(
            is_moderator=configured or admin,
            is_private=private,
            channel_id=str(chat.id),
            reply_to_media=reply_to_media,
            extra={"chat_type": str(chat.type)},
            is_member=self.member_check(chat),
        )
