"""Quotas as a feature: the guard that reserves a job's credits before it is queued (or, out of credits in a
chat with the relax lane on, queues it there: core/quotas/relax.py), `/quota`, and the worker finalizer that
settles or refunds them when the job ends."""

from __future__ import annotations

from typing import Protocol

from arq.connections import ArqRedis

from core.clock import Clock, system_clock
from core.context import ChatContext
from core.contract import TAKING, CommandCall, CommandSpec, Feature, Finalizer, GuardSpec, Outcome
from core.errors import Refusal
from core.i18n import N_, translate
from core.queue.fairness import RELAX_TIER
from core.quotas.book import Decision, QuotaBook, Tier
from core.quotas.relax import RELAX_BUSY_TEXT, RELAX_QUOTA_NOTE, RELAX_REASONS, RelaxLane
from core.quotas.texts import quota_text, refusal_text
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, Requester

UPGRADE = "upgrade_tiers"  # Outcome.extra of an out-of-credits refusal: tiers with more credits, comma-separated


class EarnedTiers(Protocol):
    """Where members' bought tiers come from (`core.billing.EntitlementBook`)."""

    async def tiers(self, platform: str, user_id: str, scopes: tuple[str, ...] = ()) -> list[str]: ...


async def member_tier(book: QuotaBook, requester: Requester, ctx: ChatContext, earned: EarnedTiers | None) -> Tier:
    """The member's tier here: configured (roles, users, moderators) and bought (the member's entitlements, and
    those of the server the request is made in: its own scope, or the server a user install is used in)."""
    scopes = (requester.scope, *ctx.outer_scopes)
    bought = await earned.tiers(requester.platform, requester.user_id, scopes) if earned is not None else []
    return book.tiers.for_member(requester, ctx, bought)


class QuotaGuard:
    """The service guard: reserve before queueing, give back if the job is not queued after all."""

    def __init__(self, book: QuotaBook, earned: EarnedTiers | None = None) -> None:
        self.book = book
        self.earned = earned
        self.relax = RelaxLane(book.redis, book.settings, book.clock)

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        tier = await member_tier(self.book, request.requester, ctx, self.earned)
        request.priority = tier.weight  # its fair-queue share (core/queue/fairness.py)
        request.tier = tier.name  # GPU time is counted per tier (core/ops/usage.py)
        if not self.book.settings.quota_enabled:
            return
        decision = await self.book.reserve(request, tier)
        if not decision.ok and await self._relaxed(request, decision):
            return
        if not decision.ok:
            text = refusal_text(decision, self.book.cost_of(request), request, self.book.clock(),
                                self.book.settings.quota_window_s)
            # Out of overall credits: the adapter may offer a tier with more (a Discord premium button).
            better = self.book.tiers.better_than(tier) if decision.reason == "credits" else []
            raise Refusal(text, reason="quota", extra={UPGRADE: ",".join(better)} if better else None)

    async def _relaxed(self, request: GenerationRequest, decision: Decision) -> bool:
        """Out of credits where the relax lane is on: queue it there (one per member) instead of refusing."""
        r = request.requester
        if decision.reason not in RELAX_REASONS or not await self.relax.enabled(r.platform, r.scope):
            return False
        if not await self.relax.take_slot(request):
            raise Refusal(translate(RELAX_BUSY_TEXT), reason="quota")
        self.relax.queue(request)
        return True

    async def undo(self, request: GenerationRequest) -> None:
        if request.tier == RELAX_TIER:
            await self.relax.release(request.job_id, request.requester)
        elif self.book.settings.quota_enabled:
            await self.book.refund(request.job_id, request.requester, "not queued")


def quota_command(book: QuotaBook, earned: EarnedTiers | None = None) -> CommandSpec:
    """`/quota`: the member's credits, jobs in flight and when credits come back, privately."""

    relax = RelaxLane(book.redis, book.settings, book.clock)

    async def quota(call: CommandCall) -> Outcome:
        r = call.requester
        tier = await member_tier(book, r, call.ctx, earned)
        usage = await book.usage(r.platform, r.user_id, tier, scope=r.scope)
        text = quota_text(usage, book.clock())
        if book.settings.quota_enabled and await relax.enabled(r.platform, r.scope):
            text += f"\n{translate(RELAX_QUOTA_NOTE)}"
        return Outcome(text, ok=True, private=True)

    return CommandSpec("quota", quota, N_("your credits left, jobs in flight and when they come back"))


def refund_finalizer(redis: ArqRedis, settings: Settings, clock: Clock = system_clock) -> Finalizer:
    """Worker finalizer: a job that failed on the service's side is refunded (once); a success, or a failure
    caused by the member's own attachment (`fault == "member"`), keeps its charge and frees its slot."""
    book = QuotaBook(redis, settings, clock)
    relax = RelaxLane(redis, settings, clock)

    async def finalize(request: GenerationRequest, reply: GenerationReply) -> None:
        if request.tier == RELAX_TIER:  # nothing was charged; the member may queue their next relax job
            await relax.release(request.job_id, request.requester)
            return
        if reply.error and reply.fault != "member":
            await book.refund(request.job_id, request.requester, reply.error)
        else:
            await book.settle(request.job_id, request.requester)

    return finalize


def quota_feature(book: QuotaBook, earned: EarnedTiers | None = None) -> Feature:
    """Quotas' part of the service and the worker; `earned` tells the tiers members bought.

    The guard takes credits, so it comes after every guard that only looks, and before anything is stored: a
    request refused elsewhere, or a member out of credits, costs and stores nothing.
    """
    return Feature(
        name="quotas",
        guards=(GuardSpec(QuotaGuard(book, earned), order=TAKING, stage="request"),),
        commands=(quota_command(book, earned),),
        finalizers=(refund_finalizer(book.redis, book.settings, book.clock),),
    )
