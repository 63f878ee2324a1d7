"""Entry point used by `reelsmith run` / `reelsmith bot telegram`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bots.telegram.app import TelegramBot
from core.service import Reelsmith


async def start(service: Reelsmith) -> Callable[[], Awaitable[None]]:
    """Start the Telegram bot; returns an async stopper."""
    bot = TelegramBot(service)
    await bot.start()
    return bot.stop
