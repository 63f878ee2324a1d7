"""The discord.py client: commands, persistent result buttons, and the reply-stream consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from bots.discord import commands
from bots.discord.delivery import PLATFORM, Delivery
from bots.discord.interactions import Interactions
from bots.discord.translator import CatalogTranslator
from bots.discord.views import ResultButton
from bots.menus import command_menu
from bots.replies import handler_for
from core.queue import ReplyConsumer
from core.service import Reelsmith, error_text, parse_button_data

log = logging.getLogger(__name__)

STALE_COMMAND_TEXT = ("That command is out of date or no longer exists here. I am refreshing the command list; "
                      "try again in a minute, or see /help.")
RESYNC_INTERVAL_S = 300.0  # at most one re-registration per this many seconds for unknown commands


class ReelsmithTree(app_commands.CommandTree["ReelsmithBot"]):
    """The command tree; a command Discord still shows but this bot does not know (renamed, removed, or with
    other options) is answered privately, and the commands are registered again."""

    async def on_error(self, interaction: discord.Interaction[ReelsmithBot], error: app_commands.AppCommandError,
                       /) -> None:
        if not isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            await super().on_error(interaction, error)
            return
        log.warning("discord: unknown or stale command %r; answering and re-registering commands",
                    getattr(error, "name", None) or interaction.command)
        if interaction.type is discord.InteractionType.application_command and not interaction.response.is_done():
            try:
                await interaction.response.send_message(error_text(STALE_COMMAND_TEXT), ephemeral=True)
            except discord.HTTPException:
                log.warning("could not answer stale command interaction %s", interaction.id)
        await self.client.resync()


class ReelsmithBot(discord.Client):
    def __init__(self, service: Reelsmith, consumer_name: str | None = None, **options: Any) -> None:
        # Only the guilds intent: channels, roles and permissions; no message content is read.
        super().__init__(intents=discord.Intents(guilds=True), **options)
        self.service = service
        self.settings = service.settings
        self.tree = ReelsmithTree(self)
        self.delivery = Delivery(self, service)
        self.flow = Interactions(service, self.delivery)
        self.consumer = ReplyConsumer(service.redis, service.settings, PLATFORM,
                                      consumer_name or f"discord-{socket.gethostname()}")
        self._consumer_task: asyncio.Task[None] | None = None
        self._resynced_at: float | None = None
        self._endpoints = Endpoints(self.settings.discord_api_base)
        commands.register(self.tree, self.flow, command_menu(service))

    async def login(self, token: str) -> None:
        self._endpoints.enter()  # before the first request: logging in is one
        await super().login(token)
        await self._endpoints.use_gateway_of(self)

    async def setup_hook(self) -> None:
        self.flow.session = aiohttp.ClientSession()
        self.add_dynamic_items(ResultButton)  # buttons of results posted before a restart keep working
        # Descriptions in every shipped language, from core's catalogs (set before the commands are synced).
        await self.tree.set_translator(CatalogTranslator(
            lambda: {e.name: e.description for e in command_menu(self.service)}, commands.menu_description))
        if self.settings.discord_sync_commands:
            await self._sync()
        self._consumer_task = asyncio.create_task(self.consumer.run(handler_for(self.delivery)))

    async def on_result_button(self, interaction: discord.Interaction[Any], data: str) -> None:
        """A result button of this bot was pressed (`bots.discord.views.PressHandler`); its declaration says
        whether only the presser sees the answer."""
        pressed = parse_button_data(data)
        declared = self.service.result_button(pressed[0]) if pressed is not None else None
        await self.flow.button(interaction, data, declared is not None and declared.private,
                               quick=declared is not None and not declared.queues)

    async def _sync(self) -> None:
        try:
            await self.tree.sync()
            for gid in self.settings.discord_guild_ids:
                guild = discord.Object(id=int(gid))
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("registering slash commands failed; existing registrations stay in use")

    async def resync(self) -> None:
        """Register the commands again after Discord sent one this bot does not know (rate-limited)."""
        if not self.settings.discord_sync_commands:
            return  # the owner registers commands themselves
        if self._resynced_at is not None and time.monotonic() - self._resynced_at < RESYNC_INTERVAL_S:
            return
        self._resynced_at = time.monotonic()
        await self._sync()

    async def close(self) -> None:
        if self._consumer_task is not None:
            self._consumer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer_task
        if self.flow.session is not None:
            await self.flow.session.close()
        await super().close()
        self._endpoints.exit()

    async def on_ready(self) -> None:
        log.info("discord: logged in as %s (%s guilds)", self.user, len(self.guilds))

    # Subscriptions and purchases (Developer Portal SKUs) keep the member's tier (`REELSMITH_DISCORD_SKU_TIERS`).
    async def on_entitlement_create(self, entitlement: discord.Entitlement) -> None:
        await self.flow.billing.on_event(entitlement)

    async def on_entitlement_update(self, entitlement: discord.Entitlement) -> None:
        await self.flow.billing.on_event(entitlement)

    async def on_entitlement_delete(self, entitlement: discord.Entitlement) -> None:
        await self.flow.billing.on_event(entitlement, deleted=True)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("discord event %s failed", event_method)  # logged, never fatal


class Endpoints:
    """Discord's REST base (interaction webhooks included) and gateway, pointed elsewhere for one bot's lifetime
    (`REELSMITH_DISCORD_API_BASE`: a proxy, or a stand-in); with no base set, Discord's own are left alone.

    discord.py keeps both as class attributes, so they are set when the bot logs in and put back when it closes.
    """

    def __init__(self, api_base: str | None) -> None:
        self.api_base = api_base.rstrip("/") if api_base else None
        self._saved: tuple[str, yarl.URL] | None = None

    def enter(self) -> None:
        if self.api_base is None or self._saved is not None:
            return
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.api_base

    async def use_gateway_of(self, client: discord.Client) -> None:
        """Connect to the gateway that API names (discord.py defaults to Discord's own)."""
        if self.api_base is None:
            return
        _shards, url, _limits = await client.http.get_bot_gateway()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    def exit(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
