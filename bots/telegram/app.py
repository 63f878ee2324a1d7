"""The Telegram bot: a python-telegram-bot `Application` (long polling) plus the reply-stream consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import BotCommand, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bots.menus import command_menu
from bots.replies import handler_for
from bots.telegram import redaction
from bots.telegram.delivery import Delivery
from bots.telegram.handlers import Handlers
from bots.telegram.inline import InlineMode
from bots.telegram.members import PLATFORM, ChatRoles
from bots.telegram.stars import Stars
from core.i18n import DEFAULT_LOCALE, SHIPPED, _, use_locale
from core.queue import DeliveryState, ReplyConsumer
from core.service import Reelsmith

log = logging.getLogger(__name__)

MENU_LIMIT = 100  # setMyCommands takes at most 100 commands


def _menu_name(name: str) -> bool:
    """What setMyCommands accepts as a command: 1-32 lowercase Latin letters, digits and underscores."""
    return name.isascii() and name.replace("_", "").isalnum() and name.islower() and len(name) <= 32


class _InAlbum(filters.MessageFilter):
    """Items of an album (media group): the captionless ones too, so the album can be collected whole."""

    def filter(self, message: Message) -> bool:
        return message.media_group_id is not None


IN_ALBUM = _InAlbum(name="IN_ALBUM")


class TelegramBot:
    """One per token: polls updates, answers commands and buttons, delivers results from the reply stream."""

    def __init__(self, service: Reelsmith, *, consumer_name: str | None = None) -> None:
        s = service.settings
        if s.telegram_token is None:
            raise ValueError("Set REELSMITH_TELEGRAM_TOKEN (from @BotFather) to run the Telegram bot.")
        token = s.telegram_token.get_secret_value()
        redaction.protect(token)  # before PTB logs its URLs
        builder = (Application.builder().token(token).concurrent_updates(True)
                   .media_write_timeout(120.0).read_timeout(30.0))
        if s.telegram_base_url:
            builder = builder.base_url(s.telegram_base_url)
        if s.telegram_base_file_url:
            builder = builder.base_file_url(s.telegram_base_file_url)
        self.application = builder.build()
        self.service = service
        self.settings = s
        bot = self.application.bot
        self.state = DeliveryState(service.redis, s, PLATFORM)
        self.delivery = Delivery(bot, service, self.state)
        roles = ChatRoles(bot, s)
        self.stars = Stars(bot, service)
        self.handlers = Handlers(service, roles, self.delivery, self.stars)
        self.inline = InlineMode(service, roles, self.delivery)
        self.consumer = ReplyConsumer(service.redis, s, PLATFORM, consumer_name or s.telegram_consumer_name)
        self._consumer_task: asyncio.Task[None] | None = None
        self.application.add_handler(MessageHandler(
            filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION | IN_ALBUM), self.handlers.on_message))
        self.application.add_handler(CallbackQueryHandler(self.handlers.on_button))
        self.application.add_handler(InlineQueryHandler(self.inline.on_query))
        self.application.add_handler(ChosenInlineResultHandler(self.inline.on_chosen))
        self.application.add_handler(PreCheckoutQueryHandler(self.stars.on_pre_checkout))
        self.application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, self.stars.on_paid))
        self.application.add_error_handler(self._on_error)

    async def start(self) -> None:
        app = self.application
        await app.initialize()  # getMe: fails fast on a bad token
        await self._publish_commands()
        await self.stars.reconcile()  # payments whose update a crash lost
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=self.settings.telegram_poll_timeout_s, allowed_updates=[
            Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY, Update.CHOSEN_INLINE_RESULT,
            Update.PRE_CHECKOUT_QUERY])
        await self.consumer.ensure_group()
        self._consumer_task = asyncio.create_task(self.consumer.run(handler_for(self.delivery)))
        log.info("telegram bot @%s running", app.bot.username)

    async def stop(self) -> None:
        if self._consumer_task is not None:
            self._consumer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer_task
            self._consumer_task = None
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def close(self) -> None:
        """Release the HTTP clients after a failed start."""
        with contextlib.suppress(Exception):
            await self.application.bot.shutdown()

    async def _publish_commands(self) -> None:
        """The command menu: every command core answers (the grammar's and the features'), as Telegram allows;
        in English for everyone, and described in each shipped language for members whose app uses it."""
        for locale in SHIPPED:
            with use_locale(locale):
                commands = [BotCommand(e.name, e.description[:256]) for e in command_menu(self.service)
                            if _menu_name(e.name)]
                if self.settings.credit_packs:
                    commands.append(BotCommand("buy", _("buy credits with Telegram Stars")))
            # Telegram matches a member's two-letter ISO 639-1 app language (pt_BR -> pt, zh_Hans -> zh).
            language = None if locale == DEFAULT_LOCALE else locale.split("_")[0]
            try:
                await self.application.bot.set_my_commands(commands[:MENU_LIMIT], language_code=language)
            except TelegramError as exc:  # cosmetic: the bot works without a menu
                log.warning("setMyCommands (%s) failed (%s)", language or "default", type(exc).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("telegram update failed: %s", type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
