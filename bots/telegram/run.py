"""The Telegram adapter as `reelsmith` starts it (`reelsmith run` with REELSMITH_TELEGRAM_TOKEN, `reelsmith bot
telegram`)."""

from __future__ import annotations

from telegram.error import InvalidToken

from bots.adapter import Adapter
from bots.telegram.app import TelegramBot
from core.service import Reelsmith


async def start(service: Reelsmith) -> TelegramBot:
    """Start the Telegram bot; stop it with `stop()`."""
    if service.settings.telegram_token is None:
        raise SystemExit("Set REELSMITH_TELEGRAM_TOKEN (from @BotFather) to run the Telegram bot.")
    bot = TelegramBot(service)
    try:
        await bot.start()
    except InvalidToken:
        await bot.close()
        raise SystemExit("Telegram rejected REELSMITH_TELEGRAM_TOKEN; copy it again from @BotFather.") from None
    return bot


ADAPTER = Adapter(name="telegram", start=start, token_setting="telegram_token")
