"""The Discord adapter as `reelsmith` starts it (`reelsmith run` with REELSMITH_DISCORD_TOKEN, `reelsmith bot
discord`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from bots.adapter import Adapter
from bots.discord.client import ReelsmithBot
from core.service import Reelsmith

log = logging.getLogger(__name__)


@dataclass
class RunningBot:
    """A logged-in bot and its gateway connection (which keeps reconnecting in the background)."""

    bot: ReelsmithBot
    connection: asyncio.Task[None]
    ready: asyncio.Task[None]

    async def stop(self) -> None:
        self.ready.cancel()
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.connection


async def start(service: Reelsmith, *, consumer_name: str | None = None,
                ready_timeout_s: float = 60.0, **options: Any) -> RunningBot:
    """Log in and connect to the gateway in the background; `options` go to `discord.Client`."""
    token = service.settings.discord_token
    if token is None:
        raise SystemExit("Set REELSMITH_DISCORD_TOKEN to run the Discord bot.")
    bot = ReelsmithBot(service, consumer_name, **options)
    try:
        await bot.login(token.get_secret_value())
    except BaseException:
        await bot.close()
        raise
    task = asyncio.create_task(bot.connect(reconnect=True))
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait([task, ready], timeout=ready_timeout_s, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        await bot.close()
        task.result()  # raises the connection error
    if not ready.done():
        log.warning("discord: not ready after %.0fs; still trying in the background", ready_timeout_s)
    return RunningBot(bot, task, ready)


ADAPTER = Adapter(name="discord", start=start, token_setting="discord_token")
