"""Entry point used by `reelsmith run` / `reelsmith bot telegram`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken

from bots.telegram.app import TelegramBot
from core.service import Reelsmith


async def start(service: Reelsmith) -> Callable[[], Awaitable[None]]:
    """Start the Telegram bot; returns an async stopper."""
    if service.settings.telegram_token is None:
        raise SystemExit("Set REELSMITH_TELEGRAM_TOKEN (from @BotFather) to run the Telegram bot.")
    bot = TelegramBot(service)
    try:
        await bot.start()
    except InvalidToken:
        await bot.close()
        raise SystemExit("Telegram rejected REELSMITH_TELEGRAM_TOKEN; copy it again from @BotFather.") from None
    return bot.stop
