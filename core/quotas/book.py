"""Per-user credits, jobs-in-flight caps, cooldowns, per-chat limits and tiers, enforced before queueing.

Two layers, both checked on every request (so a chat's moderators can never raise what the owner allows):
- The platform layer: a member's credits per window from their tier, or an owner's override and grants.
  Every spend counts against it, wherever it was made. Only configured owners/moderators change it.
- The chat layer, per scope (`Requester.scope`: a Telegram chat, a Discord server): the limit a chat's
  moderators set for one member counts only that member's spends made in that scope, and their grants raise
  only that limit; and an owner-set shared budget for the whole chat (`quota_chat_credits`). A chat's
  limits never apply anywhere else.

Model (all state in Redis, so it survives bot and worker restarts):
- A job costs credits (`core.quotas.costs.job_cost`). Each spend is an entry `<job_id>|<cost>` in the user's
  spend zset, the chat's, and the member-in-this-chat zset, scored with its time; budgets are counted over
  a rolling window (`quota_window_s`, a day by default): a spend counts until its time plus the window.
- Check-and-reserve is one Lua script: cooldown, jobs in flight, the user's credits, this chat's limit for
  them and the chat's budget are checked and the spend, the in-flight entry and the reservation record
  (keyed by job id) written in one atomic step, so 200 concurrent requests with 10 credits left admit 10.
- A reservation is `held` until the job ends: `settle` (success) frees the in-flight slot and keeps
  the charge; `refund` (failed, cancelled, refused by a safety check, not queued) removes the spend
  entries and frees the slot. Both act only on a `held` reservation, so each happens at most once.
- Tiers come from settings (`quota_tiers`, mapped by `quota_tier_roles` (Discord role ids),
  `quota_tier_users`, `quota_moderator_tier` for configured moderators); a member who fits several gets the
  most generous (credits, then weight).
- Time comes from an injectable clock (`core.clock`), never from Redis, so windows are testable.

For moderation (call on a `QuotaBook(redis, settings)`; `core.quotas.admin.ModeratorQuotas` words the answers):
- `await book.usage(platform, user_id, tier=None, scope=None)` -> `Usage` (what `/quota` shows).
- Platform layer (owners): `await book.set_budget(platform, user_id, credits)` overrides the user's credits
  per window (`None` goes back to the tier's); `await book.grant(platform, user_id, credits)` gives extra
  credits for the current window; `await book.reset(platform, user_id)` forgets the window's spends.
- Chat layer: `await book.set_member_limit(platform, scope, user_id, credits)` (None: no limit here),
  `await book.grant_in_chat(platform, scope, user_id, credits)`, `await book.chat_usage(...)`;
  `await book.set_chat_budget(platform, scope, credits)` for a chat/server's total (`None`: the
  `quota_chat_credits` default).
- `await book.refund(job_id, requester, reason)` gives a job's credits back (idempotent), e.g. when a
  queued job is cancelled without the worker publishing a reply.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from arq.connections import ArqRedis

from core.clock import Clock, system_clock
from core.context import ChatContext
from core.queue.connection import as_text, replicated
from core.quotas.costs import job_cost
from core.settings import QuotaTier, Settings
from core.types import GenerationRequest, Requester

DEFAULT_TIER = "default"
RESERVATION_SLACK_S = 24 * 3600

_RESERVE_LUA = """
-- KEYS: 1 user spend zset, 2 user in-flight zset, 3 user last-job key, 4 chat spend zset,
--       5 reservation hash, 6 user budget override, 7 chat budget override,
--       8 member-in-this-chat spend zset, 9 this chat's limit for the member, 10 the member's bought credits
-- ARGV: 1 now ms, 2 job id, 3 cost, 4 window ms, 5 tier credits, 6 max in flight, 7 cooldown ms,
--       8 chat credits (-1: no cap), 9 in-flight expiry ms, 10 reservation ttl ms, 11 tier name
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[5]) == 1 then return {'duplicate', 0, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[9]))

local function cost_of(member) return tonumber(string.match(member, '|(-?%d+)$')) end
local function used(entries)
  local total = 0
  for i = 1, #entries, 2 do total = total + cost_of(entries[i]) end
  return total
end
-- When enough of the oldest spends have left the window for `cost` to fit (ms from now; -1: never).
local function wait_for(entries, total, budget)
  if total + cost <= budget then return 0 end
  for i = 1, #entries, 2 do
    total = total - cost_of(entries[i])
    if total + cost <= budget then return tonumber(entries[i + 1]) + window - now end
  end
  return -1
end
-- Refuses with `reason` when `cost` does not fit in `budget` given the spends in `key`.
local function over(key, budget, reason)
  local spends = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local total = used(spends)
  if total + cost > budget then
    return {reason, budget - total, tostring(wait_for(spends, total, budget))}
  end
  return nil
end

local cooldown = tonumber(ARGV[7])
local last = redis.call('GET', KEYS[3])
if cooldown > 0 and last and now - tonumber(last) < cooldown then
  return {'cooldown', tostring(tonumber(last) + cooldown - now), 0}
end
local in_flight = redis.call('ZCARD', KEYS[2])
if in_flight >= tonumber(ARGV[6]) then return {'in_flight', in_flight, 0} end

-- The platform layer always applies; the chat's layers can only narrow it. A job the window's credits can't
-- cover whole is paid from bought credits (which never lapse) when there are enough of them.
local budget = tonumber(redis.call('GET', KEYS[6]) or ARGV[5])
local paid = 0
local refused = over(KEYS[1], budget, 'credits')
if refused then
  if tonumber(redis.call('GET', KEYS[10]) or '0') >= cost then paid = cost else return refused end
end
refused = nil
local member_limit = redis.call('GET', KEYS[9])
if member_limit then
  refused = over(KEYS[8], tonumber(member_limit), 'member')
  if refused then return refused end
end
local chat_budget = tonumber(redis.call('GET', KEYS[7]) or ARGV[8])
if chat_budget >= 0 then
  refused = over(KEYS[4], chat_budget, 'chat')
  if refused then return refused end
end

local member = ARGV[2] .. '|' .. ARGV[3]
local keep = window + 60000
local user_used = used(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'))
local spend_keys = {KEYS[1], KEYS[4], KEYS[8]}
if paid > 0 then
  redis.call('DECRBY', KEYS[10], paid)
  spend_keys = {KEYS[4], KEYS[8]}  -- bought credits: the window's credits stay as they were
  user_used = user_used - cost
end
for _, key in ipairs(spend_keys) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, keep)
end
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[9]) + 60000)
redis.call('SET', KEYS[3], tostring(now), 'PX', math.max(cooldown, 1000) + 60000)
redis.call('HSET', KEYS[5], 'state', 'held', 'member', member, 'cost', ARGV[3], 'at', tostring(now),
           'tier', ARGV[11], 'paid', tostring(paid))
redis.call('PEXPIRE', KEYS[5], ARGV[10])
return {'ok', budget - user_used - cost, 0}
"""

_RELEASE_LUA = """
-- KEYS: 1 reservation hash, 2 user spend zset, 3 user in-flight zset, 4 chat spend zset,
--       5 member-in-this-chat spend zset, 6 the member's bought credits
-- ARGV: 1 job id, 2 'refund' or 'settle', 3 reason
if redis.call('HGET', KEYS[1], 'state') ~= 'held' then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[2] == 'refund' then
  local member = redis.call('HGET', KEYS[1], 'member')
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZREM', KEYS[4], member)
  redis.call('ZREM', KEYS[5], member)
  local paid = tonumber(redis.call('HGET', KEYS[1], 'paid') or '0')
  if paid > 0 then redis.call('INCRBY', KEYS[6], paid) end
  redis.call('HSET', KEYS[1], 'state', 'refunded', 'reason', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'state', 'settled')
end
return 1
"""


@dataclass(frozen=True)
class Tier:
    """A resolved tier: what one member may spend and how much queue share they get."""

    name: str
    credits: int
    max_in_flight: int
    cooldown_s: float
    weight: float


@dataclass(frozen=True)
class Decision:
    """The outcome of a check-and-reserve. `ok` means the credits are now held for the job."""

    ok: bool
    # "", "cooldown", "in_flight", "credits" (overall), "member" (this chat's limit), "chat" (shared), "duplicate"
    reason: str = ""
    remaining: int = 0  # credits left (after this job when ok)
    wait_s: float = 0.0  # until the request could pass (cooldown, credits back); -1: never at this cost
    in_flight: int = 0


@dataclass(frozen=True)
class Usage:
    tier: Tier
    budget: int
    used: int
    in_flight: int
    next_credit_at: float | None  # when the oldest spend in the window comes back
    full_at: float | None  # when every spend in the window is back
    cooldown_left_s: float
    chat_budget: int | None
    chat_used: int
    member: ChatLimit | None = None  # this chat's own limit for the member, where its moderators set one
    paid: int = 0  # bought credits left (they never lapse; spent when the window's credits can't cover a job)

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.used)


@dataclass(frozen=True)
class ChatLimit:
    """A member's standing under the limit one chat's moderators set (None: no limit there)."""

    limit: int | None
    spent: int  # credits spent in this chat in the window
    granted: int  # extra credits this chat's moderators granted in the window

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit + self.granted - self.spent)


class TierMap:
    """Tiers from settings, and which one applies to a member."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default = Tier(DEFAULT_TIER, settings.quota_credits, settings.quota_max_in_flight,
                            settings.quota_cooldown_s, 1.0)
        self.tiers = {DEFAULT_TIER: self.default}
        for name, spec in settings.quota_tiers.items():
            self.tiers[name] = self._inherit(name, spec)
        self.by_role = settings.quota_tier_roles
        self.by_user = settings.quota_tier_users
        self.moderator_tier = settings.quota_moderator_tier
        named = [*self.by_role.values(), *self.by_user.values(), *settings.discord_sku_tiers.values(),
                 *filter(None, [self.moderator_tier])]
        unknown = sorted({n for n in named if n not in self.tiers})
        if unknown:
            raise ValueError(f"quota tier(s) {', '.join(unknown)} are mapped but not defined in "
                             f"REELSMITH_QUOTA_TIERS (defined: {', '.join(self.tiers)})")

    def _inherit(self, name: str, spec: QuotaTier) -> Tier:
        d = self.default
        return Tier(
            name=name,
            credits=d.credits if spec.credits is None else spec.credits,
            max_in_flight=d.max_in_flight if spec.max_in_flight is None else spec.max_in_flight,
            cooldown_s=d.cooldown_s if spec.cooldown_s is None else spec.cooldown_s,
            weight=d.weight if spec.weight is None else spec.weight,
        )

    def for_member(self, requester: Requester, ctx: ChatContext | None = None, earned: Iterable[str] = ()) -> Tier:
        """The member's tier; role tiers come from the Discord role ids the adapter lists in `ctx.roles`, `earned`
        names the tiers their purchases give (`core.billing.EntitlementBook.tiers`)."""
        ctx = ctx or ChatContext()
        names = [self.by_role[r] for r in ctx.roles if r in self.by_role]
        names += [n for n in earned if n in self.tiers]
        user_tier = self.by_user.get(f"{requester.platform}:{requester.user_id}")
        if user_tier:
            names.append(user_tier)
        # Anyone can create a chat and moderate it, so only moderators the owner configured get this tier.
        if self.moderator_tier and self.settings.is_configured_moderator(requester.platform, requester.user_id):
            names.append(self.moderator_tier)
        candidates = [self.tiers[n] for n in names] or [self.default]
        return max(candidates, key=lambda t: (t.credits, t.weight))

    def better_than(self, tier: Tier) -> list[str]:
        """Tiers with more credits than `tier`, the smallest step first (what an upgrade could offer)."""
        return [t.name for t in sorted(self.tiers.values(), key=lambda t: (t.credits, t.weight))
                if t.credits > tier.credits]


class QuotaBook:
    """Quota state in Redis: reserve, settle, refund, report, and moderator overrides."""

    def __init__(self, redis: ArqRedis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self.tiers = TierMap(settings)
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    # ---- keys ---------------------------------------------------------------------------
    def _user(self, platform: str, user_id: str, what: str) -> str:
        return self.settings.key("quota", "user", platform, user_id, what)

    def _chat(self, platform: str, scope: str, what: str) -> str:
        return self.settings.key("quota", "chat", platform, scope, what)

    def _member(self, platform: str, scope: str, user_id: str, what: str) -> str:
        return self.settings.key("quota", "member", platform, scope, user_id, what)

    def paid_key(self, platform: str, user_id: str) -> str:
        """The member's bought credits (an integer; `core.billing` adds and removes them)."""
        return self._user(platform, user_id, "paid")

    async def paid_balance(self, platform: str, user_id: str) -> int:
        """Bought credits the member has left."""
        raw = await self.redis.get(self.paid_key(platform, user_id))
        return 0 if raw is None else max(0, int(raw))

    def _reservation(self, job_id: str) -> str:
        return self.settings.key("quota", "job", job_id)

    def cost_of(self, request: GenerationRequest) -> int:
        return job_cost(request, self.settings)

    # ---- the job lifecycle --------------------------------------------------------------
    async def reserve(self, request: GenerationRequest, tier: Tier) -> Decision:
        """Check every limit and, if all pass, hold the job's credits and an in-flight slot, atomically."""
        r, s = request.requester, self.settings
        window_ms = s.quota_window_s * 1000
        chat_credits = -1 if s.quota_chat_credits is None else s.quota_chat_credits
        reason, a, b = await self._reserve(
            keys=[self._user(r.platform, r.user_id, "spend"), self._user(r.platform, r.user_id, "inflight"),
                  self._user(r.platform, r.user_id, "last"), self._chat(r.platform, r.scope, "spend"),
                  self._reservation(request.job_id), self._user(r.platform, r.user_id, "budget"),
                  self._chat(r.platform, r.scope, "budget"), self._member(r.platform, r.scope, r.user_id, "spend"),
                  self._member(r.platform, r.scope, r.user_id, "limit"), self.paid_key(r.platform, r.user_id)],
            args=[self._now_ms(), request.job_id, self.cost_of(request), window_ms, tier.credits,
                  tier.max_in_flight, int(tier.cooldown_s * 1000), chat_credits,
                  s.quota_in_flight_expiry_s * 1000, window_ms + (s.quota_in_flight_expiry_s + RESERVATION_SLACK_S)
                  * 1000, tier.name],
        )
        reason = as_text(reason)
        if reason == "ok":
            await replicated(self.redis, s, "credits reserved")
            return Decision(True, remaining=int(a))
        if reason == "cooldown":
            return Decision(False, reason, wait_s=float(as_text(a)) / 1000)
        if reason == "in_flight":
            return Decision(False, reason, in_flight=int(a))
        if reason in ("credits", "member", "chat"):
            wait_ms = float(as_text(b))
            return Decision(False, reason, remaining=max(0, int(a)), wait_s=wait_ms / 1000 if wait_ms >= 0 else -1)
        return Decision(False, reason)

    async def settle(self, job_id: str, requester: Requester) -> bool:
        """The job finished: keep the charge, free the in-flight slot. False if not held (already done)."""
        return await self._finish(job_id, requester, "settle", "")

    async def refund(self, job_id: str, requester: Requester, reason: str = "") -> bool:
        """Give the job's credits and slot back, once: False if it was already refunded or settled."""
        return await self._finish(job_id, requester, "refund", reason)

    async def _finish(self, job_id: str, requester: Requester, mode: str, reason: str) -> bool:
        r = requester
        done = await self._release(
            keys=[self._reservation(job_id), self._user(r.platform, r.user_id, "spend"),
                  self._user(r.platform, r.user_id, "inflight"), self._chat(r.platform, r.scope, "spend"),
                  self._member(r.platform, r.scope, r.user_id, "spend"), self.paid_key(r.platform, r.user_id)],
            args=[job_id, mode, reason[:200]],
        )
        if done:
            await replicated(self.redis, self.settings, f"credits ({mode})")
        return bool(done)

    async def reservation_state(self, job_id: str) -> str | None:
        """held, settled or refunded; None if unknown."""
        state = await self.redis.hget(self._reservation(job_id), "state")
        return None if state is None else as_text(state)

    # ---- reporting ------------------------------------------------------------------------
    async def usage(self, platform: str, user_id: str, tier: Tier | None = None,
                    scope: str | None = None) -> Usage:
        """A member's standing now (read-only), with `scope`'s limits. Without `tier`, their configured one."""
        s = self.settings
        tier = tier or self.tiers.for_member(Requester(platform=platform, user_id=user_id, chat_id=""))
        now = self.clock()
        since = (now - s.quota_window_s) * 1000
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrangebyscore(self._user(platform, user_id, "spend"), f"({since}", "+inf", withscores=True)
            pipe.zcount(self._user(platform, user_id, "inflight"), f"({(now - s.quota_in_flight_expiry_s) * 1000}",
                        "+inf")
            pipe.get(self._user(platform, user_id, "last"))
            pipe.get(self._user(platform, user_id, "budget"))
            pipe.get(self.paid_key(platform, user_id))
            if scope is not None:
                pipe.zrangebyscore(self._chat(platform, scope, "spend"), f"({since}", "+inf", withscores=True)
                pipe.get(self._chat(platform, scope, "budget"))
            res = await pipe.execute()
        spends, in_flight, last, budget_override, paid = res[:5]
        times = [score / 1000 + s.quota_window_s for _m, score in spends]
        cooldown_left = 0.0
        if last is not None and tier.cooldown_s:
            cooldown_left = max(0.0, int(last) / 1000 + tier.cooldown_s - now)
        chat_budget: int | None = s.quota_chat_credits
        chat_used = 0
        member: ChatLimit | None = None
        if scope is not None:
            chat_used = sum(_member_cost(m) for m, _ in res[5])
            if res[6] is not None:
                chat_budget = None if int(res[6]) < 0 else int(res[6])
            member = await self.chat_usage(platform, scope, user_id)
        return Usage(
            tier=tier,
            budget=tier.credits if budget_override is None else int(budget_override),
            used=sum(_member_cost(m) for m, _ in spends),
            in_flight=int(in_flight),
            next_credit_at=min(times) if times else None,
            full_at=max(times) if times else None,
            cooldown_left_s=cooldown_left,
            chat_budget=chat_budget,
            chat_used=chat_used,
            member=member,
            paid=0 if paid is None else max(0, int(paid)),
        )

    async def chat_usage(self, platform: str, scope: str, user_id: str) -> ChatLimit:
        """What the member spent in `scope` this window, and that chat's own limit for them."""
        since = (self.clock() - self.settings.quota_window_s) * 1000
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrangebyscore(self._member(platform, scope, user_id, "spend"), f"({since}", "+inf")
            pipe.get(self._member(platform, scope, user_id, "limit"))
            entries, limit = await pipe.execute()
        costs = [_member_cost(m) for m in entries]
        return ChatLimit(None if limit is None else int(limit), sum(c for c in costs if c > 0),
                         -sum(c for c in costs if c < 0))

    # ---- moderator overrides -------------------------------------------------------------
    async def set_budget(self, platform: str, user_id: str, credits: int | None) -> None:
        """Override a member's credits per window; None returns them to their tier's."""
        key = self._user(platform, user_id, "budget")
        if credits is None:
            await self.redis.delete(key)
        else:
            await self.redis.set(key, max(0, int(credits)))

    async def set_member_limit(self, platform: str, scope: str, user_id: str, credits: int | None) -> None:
        """A chat's own limit for one member's spends there (None: none); the platform layer still applies."""
        key = self._member(platform, scope, user_id, "limit")
        if credits is None:
            await self.redis.delete(key)
        else:
            await self.redis.set(key, max(0, int(credits)))

    async def set_chat_budget(self, platform: str, scope: str, credits: int | None, *,
                              unlimited: bool = False) -> None:
        """Override a chat's total credits per window (None: the default; `unlimited`: no cap)."""
        key = self._chat(platform, scope, "budget")
        if unlimited:
            await self.redis.set(key, -1)
        elif credits is None:
            await self.redis.delete(key)
        else:
            await self.redis.set(key, max(0, int(credits)))

    async def grant(self, platform: str, user_id: str, credits: int) -> None:
        """Extra overall credits for the current window (they lapse with it, like a spend in reverse)."""
        await self._grant(self._user(platform, user_id, "spend"), credits)

    async def grant_in_chat(self, platform: str, scope: str, user_id: str, credits: int) -> None:
        """Extra room under one chat's limit for the member, for the current window; overall credits unchanged."""
        await self._grant(self._member(platform, scope, user_id, "spend"), credits)

    async def _grant(self, key: str, credits: int) -> None:
        if credits <= 0:
            return
        member = f"grant-{secrets.token_hex(6)}|{-int(credits)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {member: self._now_ms()})
            pipe.pexpire(key, self.settings.quota_window_s * 1000 + 60000)
            await pipe.execute()

    async def reset(self, platform: str, user_id: str) -> None:
        """Forget the member's spends in the window and their cooldown: a full budget again."""
        await self.redis.delete(self._user(platform, user_id, "spend"), self._user(platform, user_id, "last"))

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


def _member_cost(member: bytes | str) -> int:
    return int(as_text(member).rsplit("|", 1)[1])
