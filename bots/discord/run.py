"""Start the Discord bot inside the `reelsmith` process (called when REELSMITH_DISCORD_TOKEN is set)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bots.discord.client import ReelsmithBot, use_api_base, use_gateway_of
from core.service import Reelsmith

log = logging.getLogger(__name__)


async def start(service: Reelsmith, *, consumer_name: str | None = None,
                ready_timeout_s: float = 60.0, **options: Any) -> Callable[[], Awaitable[None]]:
    """Log in, connect to the gateway in the background, and return an async stopper."""
    token = service.settings.discord_token
    if token is None:
        raise SystemExit("Set REELSMITH_DISCORD_TOKEN to run the Discord bot.")
    use_api_base(service.settings.discord_api_base)
    bot = ReelsmithBot(service, consumer_name, **options)
    await bot.login(token.get_secret_value())
    if service.settings.discord_api_base:
        await use_gateway_of(bot)
    task = asyncio.create_task(bot.connect(reconnect=True))
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait([task, ready], timeout=ready_timeout_s, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        await bot.close()
        task.result()  # raises the connection error
    if not ready.done():
        log.warning("discord: not ready after %.0fs; still trying in the background", ready_timeout_s)

    async def stop() -> None:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    stop.bot = bot  # type: ignore[attr-defined]  # tests reach the client through the stopper
    return stop
