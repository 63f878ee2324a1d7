"""The discord.py client: commands, persistent result buttons, and the reply-stream consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from bots.discord import commands
from bots.discord.delivery import PLATFORM, Delivery
from bots.discord.interactions import Interactions
from bots.discord.views import ResultButton
from core.queue import ReplyConsumer
from core.service import Reelsmith

log = logging.getLogger(__name__)


class ReelsmithBot(discord.Client):
    def __init__(self, service: Reelsmith, consumer_name: str | None = None, **options: Any) -> None:
        # Only the guilds intent: channels, roles and permissions; no message content is read.
        super().__init__(intents=discord.Intents(guilds=True), **options)
        self.service = service
        self.settings = service.settings
        self.tree: app_commands.CommandTree[ReelsmithBot] = app_commands.CommandTree(self)
        self.delivery = Delivery(self, service)
        self.flow = Interactions(service, self.delivery)
        self.consumer = ReplyConsumer(service.redis, service.settings, PLATFORM,
                                      consumer_name or f"discord-{socket.gethostname()}")
        self._consumer_task: asyncio.Task[None] | None = None
        commands.register(self.tree, self.flow)

    async def setup_hook(self) -> None:
        self.flow.session = aiohttp.ClientSession()
        ResultButton.on_press = self.flow.button
        self.add_dynamic_items(ResultButton)  # buttons of results posted before a restart keep working
        if self.settings.discord_sync_commands:
            await self._sync()
        self._consumer_task = asyncio.create_task(self.consumer.run(self.delivery.handle))

    async def _sync(self) -> None:
        try:
            await self.tree.sync()
            for gid in self.settings.discord_guild_ids:
                guild = discord.Object(id=int(gid))
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("registering slash commands failed; existing registrations stay in use")

    async def close(self) -> None:
        if self._consumer_task is not None:
            self._consumer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer_task
        if self.flow.session is not None:
            await self.flow.session.close()
        await super().close()

    async def on_ready(self) -> None:
        log.info("discord: logged in as %s (%s guilds)", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("discord event %s failed", event_method)  # logged, never fatal


def use_api_base(base: str | None) -> None:
    """Point discord.py's REST (and interaction webhooks) at another base URL (a proxy, or a test double)."""
    if base:
        discord.http.Route.BASE = base.rstrip("/")


async def use_gateway_of(client: discord.Client) -> None:
    """With another API base, connect to the gateway that API names (discord.py defaults to Discord's own)."""
    _shards, url, _limits = await client.http.get_bot_gateway()
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
