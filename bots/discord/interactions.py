"""One flow for every interaction: defer at once, download, translate to core, answer (publicly or ephemerally)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord

from bots.discord.billing import Billing
from bots.discord.delivery import PLATFORM, Delivery
from bots.discord.files import Remote, download
from bots.discord.installs import placement, user_scope
from bots.discord.texts import clip
from bots.discord.views import EditModal, result_view
from core.billing import EntitlementBook
from core.context import ChatContext, MemberCheck
from core.errors import DownloadError
from core.i18n import N_, from_platform, locale_of, translate, use_locale
from core.queue import as_text
from core.selfservice import PREFILL
from core.service import Attachment, Outcome, Reelsmith, error_text
from core.types import Requester

log = logging.getLogger(__name__)

MakeOutcome = Callable[[Requester, ChatContext, list[Attachment]], Awaitable[Outcome]]
OOPS = N_("Something went wrong on my side. Please try again in a moment.")  # translated where shown
RECENT_PROMPTS = 10


def remote(att: discord.Attachment) -> Remote:
    return Remote(url=att.url, filename=att.filename, size=att.size, content_type=att.content_type or "")


class Interactions:
    def __init__(self, service: Reelsmith, delivery: Delivery) -> None:
        self.service = service
        self.settings = service.settings
        self.delivery = delivery
        self.session: aiohttp.ClientSession | None = None  # for attachment downloads; opened by the bot
        self.billing = Billing(EntitlementBook(service.redis, service.settings))

    # ---- who and where ------------------------------------------------------------------
    def requester(self, interaction: discord.Interaction[Any]) -> Requester:
        user = interaction.user
        chat = str(interaction.channel_id or user.id)
        where = placement(interaction)
        # Moderators rule their whole server: every channel, thread and (for bans) the DMs of its members. A
        # member's own install (a group DM, a server the bot is not in) is its own scope.
        scope = user_scope(user.id) if where.user_install_only else \
            str(interaction.guild_id) if interaction.guild_id else chat
        return Requester(platform=PLATFORM, user_id=str(user.id), chat_id=chat, scope=scope,
                         display_name=user.display_name[:100],
                         route={"guild_id": str(interaction.guild_id or "")}, locale=self.locale(interaction))

    @staticmethod
    def locale(interaction: discord.Interaction[Any]) -> str:
        """The member's client language (`pt-BR`); the server's where Discord sent none (`core.i18n`)."""
        return str(interaction.locale or interaction.guild_locale or "")

    def context(self, interaction: discord.Interaction[Any]) -> ChatContext:
        user = interaction.user
        guild_id = interaction.guild_id
        roles: tuple[str, ...] = ()
        if isinstance(user, discord.Member) and guild_id is not None:
            # By id only (optionally bound to the server): any server owner can name a role "Moderators".
            roles = tuple(x for r in user.roles if not r.is_default() for x in (str(r.id), f"{guild_id}:{r.id}"))
        mod_roles = set(self.settings.discord_moderator_roles)
        where = placement(interaction)
        in_guild = guild_id is not None
        configured = self.settings.is_configured_moderator(PLATFORM, str(user.id))
        # Through their own install a member moderates nothing: the server (or group DM) never added the bot.
        is_moderator = configured or (not where.user_install_only and (
            (in_guild and interaction.permissions.manage_guild) or bool(mod_roles.intersection(roles))))
        channel = interaction.channel
        nsfw = bool(getattr(channel, "is_nsfw", lambda: False)()) if channel is not None else False
        # A thread follows its parent channel's on/off switches.
        switches = channel.parent_id if isinstance(channel, discord.Thread) else interaction.channel_id
        if where.user_install_only:
            # The server's bans and pause still hold for a member's own install used there.
            return ChatContext(is_moderator=configured, is_private=not in_guild, channel_id=str(switches or ""),
                               nsfw_allowed=nsfw, outer_scopes=(str(guild_id),) if guild_id is not None else ())
        return ChatContext(is_moderator=bool(is_moderator), roles=roles, is_private=not in_guild,
                           channel_id=str(switches or ""), nsfw_allowed=nsfw,
                           is_member=self._member_check(interaction, guild_id) if guild_id is not None else None)

    @staticmethod
    def _member_check(interaction: discord.Interaction[Any], guild_id: int) -> MemberCheck:
        """Whether a user is a member of this server (GET /guilds/{guild}/members/{user}; no members intent)."""
        async def is_member(user_id: str) -> bool:
            if not user_id.isdigit() or len(user_id) > 20:
                return False
            try:
                await interaction.client.http.get_member(guild_id, int(user_id))
            except discord.NotFound:
                return False
            except discord.HTTPException as exc:  # can't tell: not a member, so nobody acts on a guess
                log.warning("member lookup in guild %s failed (%s)", guild_id, exc.status)
                return False
            return True
        return is_member

    # ---- the flow -----------------------------------------------------------------------
    async def run(self, interaction: discord.Interaction[Any], make: MakeOutcome, remotes: list[Remote] | None = None,
                  *, ephemeral: bool = False, prompt: str = "") -> None:
        """Defer within Discord's 3 s, then do the slow parts and answer (the adapter's own texts, download
        refusals among them, in the member's language)."""
        with use_locale(self.locale(interaction)):
            await self._run(interaction, make, remotes, ephemeral=ephemeral, prompt=prompt)

    async def _run(self, interaction: discord.Interaction[Any], make: MakeOutcome, remotes: list[Remote] | None,
                   *, ephemeral: bool, prompt: str) -> None:
        try:
            deferred = await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        except discord.HTTPException:
            log.warning("could not acknowledge interaction %s in time", interaction.id)
            return
        status_id = deferred.message_id if deferred is not None else None
        try:
            try:
                attachments = [await self._download(r) for r in remotes or []]
            except DownloadError as exc:
                await self.answer(interaction, Outcome(error_text(str(exc)), ok=False, private=True), ephemeral)
                return
            await self.billing.sync(interaction)  # the member's bought tier, before the quota guard reads it
            outcome = await make(self.requester(interaction), self.context(interaction), attachments)
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            await self._say_privately(interaction, error_text(translate(OOPS)), ephemeral)
            return
        if outcome.job_id:
            # Remember where the status message is before showing it, so no reply can beat it.
            await self.delivery.remember(outcome.job_id, interaction, status_id)
            if prompt:
                await self._remember_prompt(str(interaction.user.id), prompt)
        try:
            await self.answer(interaction, outcome, ephemeral)
        except discord.HTTPException:
            # The job (if any) is queued and its result will still be delivered, by channel message if need be.
            log.warning("could not show the answer to interaction %s", interaction.id, exc_info=True)

    async def text(self, interaction: discord.Interaction[Any], text: str,
                   attachments: list[discord.Attachment] | None = None, *, ephemeral: bool = False,
                   prompt: str = "") -> None:
        """Forward a chat command (built from the options) to core, as every platform does."""
        async def make(requester: Requester, ctx: ChatContext, atts: list[Attachment]) -> Outcome:
            return await self.service.handle(requester, text, atts, ctx)

        await self.run(interaction, make, [remote(a) for a in attachments or []], ephemeral=ephemeral, prompt=prompt)

    async def button(self, interaction: discord.Interaction[Any], data: str, private: bool, *,
                     quick: bool = False) -> None:
        """A button press. One that queues nothing (`quick`: Copy, Edit, Delete, Report) is answered before the
        defer, so Edit can open its modal (a modal must be the interaction's first response)."""
        early: Outcome | None = None
        if quick:
            try:
                early = await self.service.action(self.requester(interaction), self.context(interaction), data)
            except Exception:
                log.exception("button %s failed", data[:40])
                early = Outcome(error_text(translate(OOPS, from_platform(self.locale(interaction)))), ok=False,
                                private=True)
            if early.extra.get(PREFILL):
                try:
                    await interaction.response.send_modal(EditModal(early.extra[PREFILL], self._run_edited))
                except discord.HTTPException:
                    log.warning("could not open the edit modal for interaction %s", interaction.id)
                return

        async def make(requester: Requester, ctx: ChatContext, _atts: list[Attachment]) -> Outcome:
            return early if early is not None else await self.service.action(requester, ctx, data)

        await self.run(interaction, make, ephemeral=private)

    async def _run_edited(self, interaction: discord.Interaction[Any], text: str,
                          _files: list[discord.Attachment]) -> None:
        """The Edit modal was submitted: its text runs as the member's command."""
        await self.text(interaction, text)

    def _view(self, outcome: Outcome) -> discord.ui.View | None:
        """The answer's own buttons (/history), and a queued job's Cancel on its status message."""
        locale = locale_of(outcome.request)  # the member's, whose job it is
        return result_view([*outcome.buttons, *(self.service.status_buttons(outcome.job_id, locale=locale)
                                                if outcome.job_id else [])])

    async def answer(self, interaction: discord.Interaction[Any], outcome: Outcome, ephemeral: bool) -> None:
        view = self.billing.upgrade_view(outcome, self._view(outcome))
        if outcome.private and not ephemeral:
            await self._say_privately(interaction, outcome.text, ephemeral, view)
            return
        await interaction.edit_original_response(content=clip(outcome.text), view=view)

    async def _say_privately(self, interaction: discord.Interaction[Any], text: str, ephemeral: bool,
                             view: discord.ui.View | None = None) -> None:
        """Errors a member can act on are for them alone: swap the public 'thinking' for an ephemeral note."""
        try:
            if ephemeral:
                await interaction.edit_original_response(content=clip(text), view=view)
                return
            await interaction.delete_original_response()
            await interaction.followup.send(clip(text), ephemeral=True, view=view or discord.utils.MISSING)
        except discord.HTTPException:
            log.warning("could not answer interaction %s", interaction.id, exc_info=True)

    async def _download(self, r: Remote) -> Attachment:
        assert self.session is not None, "the bot opens the download session in setup_hook"
        return await download(self.session, r, max_bytes=self.settings.max_reference_bytes,
                              allowed_hosts=self.settings.discord_attachment_hosts,
                              timeout_s=self.settings.discord_download_timeout_s)

    # ---- prompt autocomplete ------------------------------------------------------------
    def _recent_key(self, user_id: str) -> str:
        return self.settings.key("discord", "recent", user_id)

    async def _remember_prompt(self, user_id: str, prompt: str) -> None:
        key = self._recent_key(user_id)
        async with self.service.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(key, 0, prompt)
            pipe.lpush(key, prompt)
            pipe.ltrim(key, 0, RECENT_PROMPTS - 1)
            pipe.expire(key, self.settings.result_ttl_s)
            await pipe.execute()

    async def recent_prompts(self, user_id: str, current: str) -> list[str]:
        raw = await self.service.redis.lrange(self._recent_key(user_id), 0, -1)
        prompts = [as_text(p) for p in raw]
        needle = current.casefold()
        return [p for p in prompts if needle in p.casefold()][:25]
