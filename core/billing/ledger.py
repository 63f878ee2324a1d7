"""The purchases ledger: every paid pack credited exactly once, every refund recorded, revenue per pack.

A purchase is keyed by the platform's charge id (Telegram's `telegram_payment_charge_id`). Crediting is one
Lua script: it writes the purchase, adds the credits to the member's bought credits and appends the audit
entry (the same streams as `core.moderation.audit.AuditLog`) in one atomic step, and does nothing for a
charge id it has seen, so a redelivered update, a replayed one after a restart, or a payment found again by
reconciliation credits once.

A refund takes back what is left of the purchase's credits, never more: bought credits the member already
spent stay spent (the balance never goes below zero), and the answer says how many that was, so the owner
decides knowingly. The platform's refund call happens first; only a refund the platform made is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis

from core.billing.offers import Offer
from core.clock import Clock, system_clock
from core.i18n import _
from core.queue.connection import as_text
from core.quotas.book import QuotaBook
from core.settings import Settings

# KEYS: 1 purchase hash, 2 bought credits, 3 revenue hash, 4 global audit stream, 5 chat audit stream,
#       6 the member's purchases list
# ARGV: 1 pack, 2 credits, 3 stars, 4 user, 5 chat, 6 ts, 7 platform, 8 charge id, 9 audit maxlen,
#       10 chat audit maxlen, 11 audit detail
_CREDIT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'pack', ARGV[1], 'credits', ARGV[2], 'stars', ARGV[3], 'user', ARGV[4],
           'chat', ARGV[5], 'at', ARGV[6], 'state', 'credited')
redis.call('INCRBY', KEYS[2], tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':count', 1)
redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':stars', tonumber(ARGV[3]))
redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':credits', tonumber(ARGV[2]))
redis.call('LPUSH', KEYS[6], ARGV[8])
redis.call('LTRIM', KEYS[6], 0, 99)
local fields = {'ts', ARGV[6], 'kind', 'purchase', 'platform', ARGV[7], 'chat', ARGV[5], 'user', ARGV[4],
                'action', 'purchase', 'detail', ARGV[11]}
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', unpack(fields))
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', unpack(fields))
return 1
"""

# KEYS: 1 purchase hash, 2 bought credits, 3 revenue hash, 4 global audit stream, 5 chat audit stream
# ARGV: 1 ts, 2 platform, 3 by (user id), 4 audit maxlen, 5 chat audit maxlen, 6 charge id
_REFUND_LUA = """
if redis.call('HGET', KEYS[1], 'state') ~= 'credited' then return {-1, 0} end
local credits = tonumber(redis.call('HGET', KEYS[1], 'credits'))
local balance = math.max(0, tonumber(redis.call('GET', KEYS[2]) or '0'))
local removed = math.min(credits, balance)
redis.call('DECRBY', KEYS[2], removed)
local pack = redis.call('HGET', KEYS[1], 'pack')
redis.call('HSET', KEYS[1], 'state', 'refunded', 'refunded_by', ARGV[3], 'refunded_at', ARGV[1],
           'removed', tostring(removed))
redis.call('HINCRBY', KEYS[3], pack .. ':refunds', 1)
redis.call('HINCRBY', KEYS[3], pack .. ':refunded_stars', tonumber(redis.call('HGET', KEYS[1], 'stars')))
local user = redis.call('HGET', KEYS[1], 'user')
local detail = 'charge ' .. ARGV[6] .. ' of ' .. user .. ': ' .. removed .. ' of ' .. credits ..
               ' credits removed (' .. (credits - removed) .. ' already spent)'
local fields = {'ts', ARGV[1], 'kind', 'refund', 'platform', ARGV[2], 'chat', redis.call('HGET', KEYS[1], 'chat'),
                'user', ARGV[3], 'action', 'refund', 'detail', detail}
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
return {removed, credits}
"""


@dataclass(frozen=True)
class Purchase:
    """One credited payment."""

    charge_id: str
    pack_id: str
    credits: int
    stars: int
    user_id: str
    chat_id: str
    at: float
    state: str  # "credited" | "refunded"


@dataclass(frozen=True)
class Refunded:
    """What a refund took back: `removed` of the purchase's `credits` (the rest had been spent)."""

    removed: int
    credits: int

    @property
    def spent(self) -> int:
        return self.credits - self.removed


class PurchaseLedger:
    """Purchases in Redis: credit once per charge id, refund once, revenue per pack."""

    def __init__(self, redis: ArqRedis, settings: Settings, book: QuotaBook, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.book = book
        self.clock = clock
        self._credit = redis.register_script(_CREDIT_LUA)
        self._refund = redis.register_script(_REFUND_LUA)

    def _purchase_key(self, platform: str, charge_id: str) -> str:
        return self.settings.key("billing", "purchase", platform, charge_id)

    def _revenue_key(self, platform: str) -> str:
        return revenue_key(self.settings, platform)

    def _audit_keys(self, platform: str, chat_id: str) -> list[str]:
        s = self.settings
        return [s.key("mod", "audit"), s.key("mod", "audit", platform, chat_id)]

    async def credit(self, platform: str, charge_id: str, offer: Offer, chat_id: str) -> bool:
        """Credit a completed payment for `offer`; False (and nothing changes) if this charge was seen before."""
        s = self.settings
        detail = f"pack {offer.pack_id}: {offer.credits} credits for {offer.stars} stars, charge {charge_id}"
        done = await self._credit(
            keys=[self._purchase_key(platform, charge_id), self.book.paid_key(platform, offer.user_id),
                  self._revenue_key(platform), *self._audit_keys(platform, chat_id),
                  s.key("billing", "user", platform, offer.user_id)],
            args=[offer.pack_id, offer.credits, offer.stars, offer.user_id, chat_id, f"{self.clock():.3f}",
                  platform, charge_id, s.audit_max_len, s.audit_chat_max_len, detail],
        )
        return bool(done)

    async def purchase(self, platform: str, charge_id: str) -> Purchase | None:
        raw = await self.redis.hgetall(self._purchase_key(platform, charge_id))
        if not raw:
            return None
        f = {as_text(k): as_text(v) for k, v in raw.items()}
        return Purchase(charge_id, f["pack"], int(f["credits"]), int(f["stars"]), f["user"], f["chat"],
                        float(f["at"]), f["state"])

    async def refund(self, platform: str, charge_id: str, by: str) -> Refunded | None:
        """Record a refund the platform made: take back what is left of its credits. None if not credited."""
        purchase = await self.purchase(platform, charge_id)
        if purchase is None:
            return None
        s = self.settings
        removed, credits = await self._refund(
            keys=[self._purchase_key(platform, charge_id), self.book.paid_key(platform, purchase.user_id),
                  self._revenue_key(platform), *self._audit_keys(platform, purchase.chat_id)],
            args=[f"{self.clock():.3f}", platform, by, s.audit_max_len, s.audit_chat_max_len, charge_id],
        )
        if int(removed) < 0:
            return None
        return Refunded(int(removed), int(credits))


def revenue_key(settings: Settings, platform: str) -> str:
    return settings.key("billing", "revenue", platform)


async def revenue_text(redis: ArqRedis, settings: Settings, platform: str) -> str:
    """Revenue per pack on one platform (what `/mod usage` shows owners), all time."""
    raw = await redis.hgetall(revenue_key(settings, platform))
    stats: dict[str, dict[str, int]] = {}
    for k, v in raw.items():
        pack, _sep, what = as_text(k).rpartition(":")
        stats.setdefault(pack, {})[what] = int(v)
    if not stats:
        return _("No purchases on {platform} yet.", platform=platform)
    lines = [_("Revenue on {platform} (all time, Telegram Stars):", platform=platform)]
    total = 0
    for pack in sorted(stats):
        st = stats[pack]
        net = st.get("stars", 0) - st.get("refunded_stars", 0)
        total += net
        sold = _("{pack}: {count} sold, {credits} credits, {stars} stars", pack=pack, count=st.get("count", 0),
                 credits=st.get("credits", 0), stars=st.get("stars", 0))
        if st.get("refunds"):
            sold += ", " + _("{count} refunded ({stars} stars)", count=st["refunds"],
                             stars=st.get("refunded_stars", 0))
        lines.append("- " + sold + "; " + _("net {stars}", stars=net))
    lines.append(_("Net: {stars} stars.", stars=total))
    return "\n".join(lines)
