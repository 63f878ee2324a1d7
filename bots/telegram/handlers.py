"""Telegram updates -> core: commands (with their media) to `Reelsmith.handle`, button presses to `.action`.

Nothing here knows individual commands beyond platform translation: any command core knows
(generation commands and everything registered with `service.add_command`) is passed through.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.telegram.albums import AlbumCollector
from bots.telegram.delivery import TEXT_LIMIT, Delivery
from bots.telegram.files import AttachmentRefused, MediaItem, check_before_download, download, media_in
from bots.telegram.members import ChatRoles, requester_for, thread_of
from bots.telegram.retry import retrying
from core.service import COMMANDS, Attachment, Reelsmith, error_text, parse_button_data

log = logging.getLogger(__name__)

_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?=\s|$)")
NO_MEDIA_COMMANDS = {"help", "start"}
HINT_TEXT = "Send /imagine <prompt> to make an image, /video <prompt> for a clip, or /help for everything."
OOPS_TEXT = "Sorry, something went wrong on my side; nothing was charged. Try again in a moment."
CALLBACK_TEXT_LIMIT = 200
CANNOT_POST_TEXT = "I can't post in this chat any more, so I won't make that. Nothing was charged."


class Handlers:
    def __init__(self, service: Reelsmith, roles: ChatRoles, delivery: Delivery) -> None:
        self.service = service
        self.settings = service.settings
        self.roles = roles
        self.delivery = delivery
        self.albums = AlbumCollector(self.settings.telegram_album_window_s)

    def known(self, name: str) -> bool:
        return name in COMMANDS or name in self.service.commands or name == "start"

    # ---- commands -----------------------------------------------------------------------
    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        chat, user = message.chat, message.from_user
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
        if user is not None and user.is_bot and not anonymous_admin:
            return
        if message.media_group_id is not None:
            album = await self.albums.collect(message)
            if album is not None:
                await self._album(album, context)
            return
        found = self._command_in(message, context.bot.username)
        if found is None:
            if chat.type == ChatType.PRIVATE and message.text and _COMMAND_RE.match(message.text) is None:
                await self._answer(message, HINT_TEXT)
            return
        await self._run(message, *found, context)

    def _command_in(self, message: Message, me: str | None) -> tuple[str, str] | None:
        """(text, command name) when the message's text or caption is a command for us."""
        text = message.text or message.caption or ""
        m = _COMMAND_RE.match(text)
        if m is None:
            return None
        name, target = m.group("name").lower(), m.group("bot")
        if target and me and target.lower() != me.lower():
            return None  # addressed to another bot in this group
        if message.chat.type != ChatType.PRIVATE and not target and not self.known(name):
            return None  # maybe another bot's command
        return text, name

    async def _album(self, album: list[Message], context: ContextTypes.DEFAULT_TYPE) -> None:
        """One request for a whole album: the item whose caption is the command carries it (usually the first)."""
        me = context.bot.username
        for message in album:
            found = self._command_in(message, me)
            if found is not None:
                await self._run(message, *found, context, album=album)
                return
        # An album without a command is not a request (and may be meant for people, not the bot).

    async def _run(self, message: Message, text: str, name: str, context: ContextTypes.DEFAULT_TYPE,
                   album: list[Message] | None = None) -> None:
        try:
            await self._command(message, text, name, context, album)
        except Exception:
            log.exception("handling /%s in chat %s failed", name, message.chat.id)
            await self._answer(message, error_text(OOPS_TEXT))

    async def _command(self, message: Message, text: str, name: str, context: ContextTypes.DEFAULT_TYPE,
                       album: list[Message] | None = None) -> None:
        if name == "start" and "start" not in self.service.commands:
            text = "/help"  # Telegram's "Start" button: show what the bot does
        if COMMANDS.get(name) is not None and not await self.delivery.can_post(message.chat_id, thread_of(message)):
            return  # blocked, removed or muted: a job would be rendered and charged for nobody to see
        replied = message.reply_to_message
        if replied is None and album:  # clients may set the reply on another item of the album
            replied = next((m.reply_to_message for m in album if m.reply_to_message is not None), None)
        replied_media = media_in(replied) if replied is not None else None
        attachments: list[Attachment] = []
        if name not in NO_MEDIA_COMMANDS:
            if album is not None:
                # The reference-order contract: the replied-to message's media first, then the album's.
                found = [replied_media, *(media_in(m) for m in album)]
                items = [item for item in found if item is not None]
            else:
                # A reply with a file of its own (a mask for the replied-to picture: Vary (Region)) keeps the
                # same order: the replied-to message's media first.
                items = [item for item in (replied_media, media_in(message)) if item is not None]
            try:
                attachments = await self._download(context, items)
            except AttachmentRefused as exc:
                await self._answer(message, error_text(exc.message))
                return
        ctx = await self.roles.context_for(message.chat, message.from_user, sender_chat=message.sender_chat,
                                           reply_to_media=replied_media is not None)
        requester = requester_for(message.chat, message.from_user, message.message_id, thread_of(message),
                                  sender_chat=message.sender_chat)
        outcome = await self.service.handle(requester, text, attachments, ctx)
        sent = await self._answer(message, outcome.text)
        if outcome.job_id and sent is not None:
            await self.delivery.status_posted(outcome.job_id, sent)

    async def _download(self, context: ContextTypes.DEFAULT_TYPE, items: list[MediaItem]) -> list[Attachment]:
        """Every item's bytes, in order (concurrently); the first refusal, in order, if any item is refused."""
        limit = min(self.settings.telegram_max_download_bytes, self.settings.max_reference_bytes)
        for item in items:  # an album with one file too large downloads nothing
            check_before_download(item, limit)
        results = await asyncio.gather(*(download(context.bot, item, limit) for item in items),
                                       return_exceptions=True)
        attachments: list[Attachment] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            attachments.append(result)
        return attachments

    async def _answer(self, message: Message, text: str) -> Message | None:
        """Reply to the member's message (Telegram has no ephemeral messages); None if it could not be sent."""
        s = self.settings
        try:
            return await retrying(
                lambda: message.get_bot().send_message(
                    message.chat_id, text[:TEXT_LIMIT], message_thread_id=thread_of(message),
                    reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)),
                attempts=s.telegram_send_attempts, max_retry_after_s=s.telegram_max_retry_after_s, what="sendMessage")
        except TelegramError as exc:
            log.warning("could not answer in chat %s (%s)", message.chat_id, type(exc).__name__)
            return None

    # ---- buttons ------------------------------------------------------------------------
    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await self._button(query)
        except Exception:
            log.exception("button press failed")
            await self._toast(query, OOPS_TEXT, alert=True)

    async def _button(self, query: CallbackQuery) -> None:
        message = query.message
        if message is None or not isinstance(query.data, str):
            await self._toast(query, "That button no longer works. Send a new command.", alert=True)
            return
        chat = message.chat
        thread = thread_of(message) if isinstance(message, Message) else None
        pressed = parse_button_data(query.data)
        declared = self.service.result_button(pressed[0]) if pressed is not None else None
        if declared is not None and declared.queues and not await self.delivery.can_post(chat.id, thread):
            await self._toast(query, CANNOT_POST_TEXT, alert=True)
            return
        ctx = await self.roles.context_for(chat, query.from_user)
        requester = requester_for(chat, query.from_user, message.message_id, thread)
        outcome = await self.service.action(requester, ctx, query.data[:100])
        if outcome.job_id is None and len(outcome.text) <= CALLBACK_TEXT_LIMIT:
            # A callback answer is shown only to whoever pressed: Telegram's one private reply.
            await self._toast(query, outcome.text, alert=not outcome.ok)
            return
        await self._toast(query, outcome.text if len(outcome.text) <= CALLBACK_TEXT_LIMIT else None)
        s = self.settings
        try:
            sent = await retrying(
                lambda: query.get_bot().send_message(
                    chat.id, outcome.text[:TEXT_LIMIT], message_thread_id=thread,
                    reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)),
                attempts=s.telegram_send_attempts, max_retry_after_s=s.telegram_max_retry_after_s, what="sendMessage")
        except TelegramError as exc:
            log.warning("could not answer a button in chat %s (%s)", chat.id, type(exc).__name__)
            return
        if outcome.job_id:
            await self.delivery.status_posted(outcome.job_id, sent)

    async def _toast(self, query: CallbackQuery, text: str | None, alert: bool = False) -> None:
        try:
            await retrying(lambda: query.answer(text, show_alert=alert), attempts=2, what="answerCallbackQuery")
        except TelegramError as exc:  # too late (queries expire): nothing the member can see anyway
            log.info("answerCallbackQuery failed (%s)", type(exc).__name__)
