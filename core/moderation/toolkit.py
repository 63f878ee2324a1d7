"""The moderation components one service shares, and who counts as a moderator or owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from arq.connections import ArqRedis

from core.clock import Clock, system_clock
from core.context import ChatContext
from core.errors import Refusal
from core.i18n import _
from core.moderation.audit import AuditLog
from core.moderation.bans import Bans
from core.moderation.blocklist import Blocklists
from core.moderation.consent import Avatars
from core.moderation.switches import Switches
from core.queue.blobs import BlobStore
from core.queue.jobs import JobQueue
from core.settings import Settings
from core.types import Requester


class QuotaAdmin(Protocol):
    """What `/mod quota ...` needs from the quotas module (core.quotas.admin.ModeratorQuotas satisfies it).

    Amounts are credits (one per image; the quotas module decides what a video costs). `scope` is the
    chat/server whose own limit for the member a chat moderator sets or reads; None is the member's
    platform-wide credits (owners' business). The returned text is shown to the moderator as is.
    """

    async def set_limit(self, platform: str, scope: str | None, user_id: str, limit: int | None) -> str: ...

    async def grant(self, platform: str, scope: str | None, user_id: str, credits: int) -> str: ...

    async def usage(self, platform: str, scope: str | None, user_id: str) -> str: ...


@dataclass(frozen=True)
class Moderation:
    """Moderation's state and stores, shared by its guards, commands and buttons (all state lives in Redis)."""

    settings: Settings
    redis: ArqRedis
    blobs: BlobStore
    queue: JobQueue
    bans: Bans
    switches: Switches
    blocklists: Blocklists
    audit: AuditLog
    avatars: Avatars
    quota: QuotaAdmin | None = None
    clock: Clock = system_clock

    @classmethod
    def build(cls, settings: Settings, redis: ArqRedis, *, quota: QuotaAdmin | None = None,
              clock: Clock = system_clock) -> Moderation:
        r, s = redis, settings
        return cls(s, r, BlobStore(r, s), JobQueue(r, s), Bans(r, s, clock), Switches(r, s), Blocklists(r, s),
                   AuditLog(r, s, clock), Avatars(r, s, clock), quota, clock)

    def is_owner(self, who: Requester) -> bool:
        return self.settings.is_owner(who.platform, who.user_id)

    def is_configured(self, who: Requester) -> bool:
        """An owner or moderator the service's settings name: they act on the whole platform."""
        return self.settings.is_configured_moderator(who.platform, who.user_id)

    def is_moderator(self, who: Requester, ctx: ChatContext) -> bool:
        """Moderator in `who.scope`: the adapter's verdict for this chat, or configured ids / owners."""
        return ctx.is_moderator or self.is_configured(who)

    def review_chat(self, platform: str) -> str | None:
        s = self.settings
        return {"telegram": s.telegram_review_chat_id, "discord": s.discord_review_channel_id,
                "web": s.web_review_chat_id}.get(platform)

    def in_review_chat(self, who: Requester, ctx: ChatContext) -> bool:
        """A moderator of the platform's configured review chat, acting there."""
        target = self.review_chat(who.platform)
        # The review chat may be a whole chat (Telegram) or one channel of a server (Discord).
        return target is not None and ctx.is_moderator and target in (who.chat_id, ctx.channel_id)

    def is_platform_moderator(self, who: Requester, ctx: ChatContext) -> bool:
        """May decide what applies on the whole platform (avatars, overall credits, platform bans)."""
        return self.is_configured(who) or self.in_review_chat(who, ctx)

    def require_moderator(self, who: Requester, ctx: ChatContext, what: str) -> None:
        # The refusal reaches the audit log through the service's refusal listeners.
        if not self.is_moderator(who, ctx):
            raise Refusal(_("Only this chat's moderators can use {command}.", command=what), reason="not_moderator")

    def require_platform_moderator(self, who: Requester, ctx: ChatContext, what: str) -> None:
        """`what` is "bans", "credits" or "avatars": each has its own whole sentence, so it translates."""
        if not self.is_platform_moderator(who, ctx):
            p = who.platform
            first = {"bans": _("Platform-wide bans apply everywhere on {platform}.", platform=p),
                     "credits": _("Overall credits apply everywhere on {platform}.", platform=p),
                     "avatars": _("Avatar decisions apply everywhere on {platform}.", platform=p)}[what]
            raise Refusal(first + " " + _("Only the service's owners and moderators, or moderators in its review chat, "
                                          "can change them. Moderators here can /mod ban or set this chat's own "
                                          "limits."), reason="not_platform_moderator")

    async def require_member(self, who: Requester, ctx: ChatContext, user_id: str) -> None:
        """A chat moderator acts only on members of their own chat; configured moderators on anyone."""
        if self.is_configured(who):
            return
        if ctx.is_member is not None and await ctx.is_member(user_id):
            return
        raise Refusal(_("{user} is not a member of this chat, so its moderators can't act on them. Check the id "
                        "(or reply to one of their messages).", user=user_id), reason="not_member")

    def require_owner(self, who: Requester, what: str) -> None:
        if not self.is_owner(who):
            raise Refusal(_("Only the service owners can use {command}.", command=what), reason="not_owner")

    async def log_action(self, who: Requester, action: str, detail: str = "") -> None:
        await self.audit.record("action", who.platform, who.scope, who.user_id, action, detail)

    async def log_refusal(self, who: Requester, reason: str, message: str) -> None:
        """A refusal listener: every refused request or command lands in the audit log."""
        await self.audit.record("refusal", who.platform, who.scope, who.user_id, reason, message)
