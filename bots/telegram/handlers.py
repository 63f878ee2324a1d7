"""Telegram updates -> core: commands (with their media) to `Reelsmith.handle`, button presses to `.action`.

Nothing here knows individual commands beyond platform translation: any command core knows
(generation commands and everything registered with `service.add_command`) is passed through.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re

from telegram import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.telegram.albums import AlbumCollector
from bots.telegram.delivery import TEXT_LIMIT, Delivery, keyboard
from bots.telegram.files import AttachmentRefused, MediaItem, check_before_download, download, media_in
from bots.telegram.members import ChatRoles, member_locale, requester_for, thread_of
from bots.telegram.retry import retrying
from bots.telegram.stars import Stars
from core.i18n import N_, locale_of, translate, use_locale
from core.selfservice import COMMAND, PREFILL
from core.service import COMMANDS, Attachment, Outcome, Reelsmith, error_text, parse_button_data

log = logging.getLogger(__name__)

_COMMAND_RE = re.compile(r"^/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?=\s|$)")
NO_MEDIA_COMMANDS = {"help", "start"}
# The adapter's own texts: each update is handled in its sender's language (`use_locale`), where they are shown
# with `translate(...)`.
HINT_TEXT = N_("Send /imagine <prompt> to make an image, /video <prompt> for a clip, or /help for everything.")
OOPS_TEXT = N_("Sorry, something went wrong on my side; nothing was charged. Try again in a moment.")
CALLBACK_TEXT_LIMIT = 200
CANNOT_POST_TEXT = N_("I can't post in this chat any more, so I won't make that. Nothing was charged.")
COPY_TEXT = N_("The command for this result (tap it to copy):\n\n<code>{command}</code>")
# HTML: the mention makes a selective ForceReply target the presser in groups; <code> copies on a tap.
EDIT_TEXT = N_('<a href="tg://user?id={user_id}">{name}</a>, reply to this message with your edited command:\n\n'
               "<code>{command}</code>")
EDIT_TOAST = N_("Reply to my message with your edited command.")
EDIT_PLACEHOLDER = N_("Your edited command")
IN_PRIVATE_TEXT = N_("I sent you the answer in a private chat.")
NO_DM_NOTE = N_("(I can't message you privately yet: start a chat with me to get answers like this there.)")
GONE_BUTTON_TEXT = N_("That button no longer works. Send a new command.")


class Handlers:
    def __init__(self, service: Reelsmith, roles: ChatRoles, delivery: Delivery, stars: Stars) -> None:
        self.service = service
        self.stars = stars
        self.settings = service.settings
        self.roles = roles
        self.delivery = delivery
        self.albums = AlbumCollector(self.settings.telegram_album_window_s)

    def known(self, name: str) -> bool:
        return name in COMMANDS or name in self.service.commands or name in ("start", "buy")

    # ---- commands -----------------------------------------------------------------------
    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        # The adapter's own texts (download refusals, hints, "went wrong") in the sender's language too.
        with use_locale(member_locale(message.chat, message.from_user, message.sender_chat)):
            await self._message(message, context)

    async def _message(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = message.chat, message.from_user
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
        if user is not None and user.is_bot and not anonymous_admin:
            return
        if message.media_group_id is not None:
            album = await self.albums.collect(message)
            if album is not None:
                await self._album(album, context)
            return
        found = self._command_in(message, context.bot.username) or await self._edited_command(message)
        if found is None:
            if chat.type == ChatType.PRIVATE and message.text and _COMMAND_RE.match(message.text) is None:
                await self._answer(message, translate(HINT_TEXT))
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

    def _edit_key(self, chat_id: int, message_id: int) -> str:
        return self.settings.key("telegram", "edit-prompt", str(chat_id), str(message_id))

    async def _edited_command(self, message: Message) -> tuple[str, str] | None:
        """A reply to our Edit prompt runs as the command (the command's name is kept if the member dropped it)."""
        replied = message.reply_to_message
        if replied is None or not message.text:
            return None
        name = await self.service.redis.get(self._edit_key(message.chat_id, replied.message_id))
        if name is None:
            return None
        command = name.decode() if isinstance(name, bytes) else str(name)
        text = message.text.strip()
        m = _COMMAND_RE.match(text)
        if m is None:
            text = f"/{command} {text}"
        return text, (m.group("name").lower() if m else command)

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
            await self._answer(message, error_text(translate(OOPS_TEXT)))

    async def _command(self, message: Message, text: str, name: str, context: ContextTypes.DEFAULT_TYPE,
                       album: list[Message] | None = None) -> None:
        if await self._stars_command(message, text, name):
            return
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
        if outcome.private and outcome.buttons and message.chat.type != ChatType.PRIVATE and message.from_user:
            if await self._in_private(message, outcome):  # e.g. /history: the member's own, with its buttons
                await self._answer(message, translate(IN_PRIVATE_TEXT))
                return
            outcome.text += "\n\n" + translate(NO_DM_NOTE)
        sent = await self._answer(message, outcome.text, self._markup(outcome))
        if outcome.job_id and sent is not None:
            await self.delivery.status_posted(outcome.job_id, sent)

    async def _stars_command(self, message: Message, text: str, name: str) -> bool:
        """`/buy` and `/mod refund`: Telegram Stars invoices and refunds are this platform's own calls."""
        tokens = text.split()
        if name == "buy":
            answer = await self.stars.buy(message)
        elif name == "mod" and len(tokens) > 1 and tokens[1].lower() == "refund" and message.from_user is not None:
            answer = await self.stars.refund(str(message.from_user.id), tokens[2:])
        else:
            return False
        if answer:
            await self._answer(message, answer)
        return True

    def _markup(self, outcome: Outcome) -> InlineKeyboardMarkup | None:
        """The answer's own buttons, and a queued job's Cancel (kept through progress edits by the delivery)."""
        buttons = [*outcome.buttons, *(self.service.status_buttons(outcome.job_id, emoji=True,
                                                                   locale=locale_of(outcome.request))
                                       if outcome.job_id else [])]
        return keyboard(buttons)

    async def _in_private(self, message: Message, outcome: Outcome) -> bool:
        """Send a private answer to the member's own chat with the bot; False if Telegram won't (never started)."""
        assert message.from_user is not None
        try:
            await message.get_bot().send_message(message.from_user.id, outcome.text[:TEXT_LIMIT],
                                                 reply_markup=keyboard(outcome.buttons))
        except TelegramError as exc:
            log.info("no private chat with user %s (%s)", message.from_user.id, type(exc).__name__)
            return False
        return True

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

    async def _answer(self, message: Message, text: str,
                      markup: InlineKeyboardMarkup | None = None) -> Message | None:
        """Reply to the member's message (Telegram has no ephemeral messages); None if it could not be sent."""
        s = self.settings
        try:
            return await retrying(
                lambda: message.get_bot().send_message(
                    message.chat_id, text[:TEXT_LIMIT], message_thread_id=thread_of(message), reply_markup=markup,
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
        with use_locale(query.from_user.language_code or ""):
            try:
                await self._button(query)
            except Exception:
                log.exception("button press failed")
                await self._toast(query, translate(OOPS_TEXT), alert=True)

    async def _button(self, query: CallbackQuery) -> None:
        message = query.message
        if message is None or not isinstance(query.data, str):
            await self._toast(query, translate(GONE_BUTTON_TEXT), alert=True)
            return
        chat = message.chat
        thread = thread_of(message) if isinstance(message, Message) else None
        pressed = parse_button_data(query.data)
        declared = self.service.result_button(pressed[0]) if pressed is not None else None
        if declared is not None and declared.queues and not await self.delivery.can_post(chat.id, thread):
            await self._toast(query, translate(CANNOT_POST_TEXT), alert=True)
            return
        ctx = await self.roles.context_for(chat, query.from_user)
        requester = requester_for(chat, query.from_user, message.message_id, thread)
        outcome = await self.service.action(requester, ctx, query.data[:100])
        if outcome.extra.get(PREFILL):
            await self._edit_prompt(query, chat.id, thread, outcome.extra[PREFILL])
            return
        if outcome.extra.get(COMMAND):  # Copy: a toast can't be copied from, a <code> message can
            await self._toast(query, None)
            copy = translate(COPY_TEXT).format(command=html.escape(outcome.extra[COMMAND]))
            await self._say(query, chat.id, thread, copy, message.message_id)
            return
        if outcome.job_id is None and len(outcome.text) <= CALLBACK_TEXT_LIMIT:
            # A callback answer is shown only to whoever pressed: Telegram's one private reply.
            await self._toast(query, outcome.text, alert=not outcome.ok)
            return
        await self._toast(query, outcome.text if len(outcome.text) <= CALLBACK_TEXT_LIMIT else None)
        s = self.settings
        try:
            sent = await retrying(
                lambda: query.get_bot().send_message(
                    chat.id, outcome.text[:TEXT_LIMIT], message_thread_id=thread, reply_markup=self._markup(outcome),
                    reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)),
                attempts=s.telegram_send_attempts, max_retry_after_s=s.telegram_max_retry_after_s, what="sendMessage")
        except TelegramError as exc:
            log.warning("could not answer a button in chat %s (%s)", chat.id, type(exc).__name__)
            return
        if outcome.job_id:
            await self.delivery.status_posted(outcome.job_id, sent)

    async def _say(self, query: CallbackQuery, chat_id: int, thread: int | None, html_text: str,
                   reply_to: int) -> None:
        s = self.settings
        try:
            await retrying(lambda: query.get_bot().send_message(
                chat_id, html_text[:TEXT_LIMIT], message_thread_id=thread, parse_mode="HTML",
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)),
                attempts=s.telegram_send_attempts, max_retry_after_s=s.telegram_max_retry_after_s, what="sendMessage")
        except TelegramError as exc:
            log.warning("could not answer a button in chat %s (%s)", chat_id, type(exc).__name__)

    async def _edit_prompt(self, query: CallbackQuery, chat_id: int, thread: int | None, command: str) -> None:
        """Edit: the command in a message with ForceReply (the input field can't hold it: placeholders are 64
        characters), so the member's reply to it runs as the edited command."""
        s = self.settings
        who = query.from_user
        text = translate(EDIT_TEXT).format(user_id=who.id, name=html.escape(who.first_name or "You"),
                                           command=html.escape(command))
        try:
            sent = await retrying(
                lambda: query.get_bot().send_message(
                    chat_id, text[:TEXT_LIMIT], message_thread_id=thread, parse_mode="HTML",
                    reply_markup=ForceReply(selective=True, input_field_placeholder=translate(EDIT_PLACEHOLDER))),
                attempts=s.telegram_send_attempts, max_retry_after_s=s.telegram_max_retry_after_s, what="sendMessage")
        except TelegramError as exc:
            log.warning("could not send the edit prompt in chat %s (%s)", chat_id, type(exc).__name__)
            await self._toast(query, translate(OOPS_TEXT), alert=True)
            return
        m = _COMMAND_RE.match(command)
        await self.service.redis.set(self._edit_key(chat_id, sent.message_id), m.group("name") if m else "imagine",
                                     ex=s.result_ttl_s)
        await self._toast(query, translate(EDIT_TOAST))

    async def _toast(self, query: CallbackQuery, text: str | None, alert: bool = False) -> None:
        try:
            await retrying(lambda: query.answer(text, show_alert=alert), attempts=2, what="answerCallbackQuery")
        except TelegramError as exc:  # too late (queries expire): nothing the member can see anyway
            log.info("answerCallbackQuery failed (%s)", type(exc).__name__)
