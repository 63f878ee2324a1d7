"""Paid tiers from platform entitlements (Discord SKUs): which SKU gives which quota tier, and each member's
active entitlements kept in Redis, so the tier the quota book applies follows purchases, renewals, expiry and
refunds.

Adapters hand over what the platform says: its entitlement events (Discord ENTITLEMENT_CREATE, _UPDATE and
_DELETE) through `apply`/`remove`, and the entitlements an interaction carries through `sync`. One hash per
member holds entitlement id -> SKU, tier and end; `tiers` answers which tiers hold now. An entitlement that is
deleted (refunded or removed by the platform) or whose `ends_at` has passed gives nothing and is forgotten.
Every grant and removal is in the audit log (kind `billing`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core.clock import Clock, system_clock
from core.moderation.audit import AuditLog
from core.queue.connection import as_text
from core.settings import Settings

log = logging.getLogger(__name__)

AUDIT_CHAT = "billing"  # the audit stream entitlement changes are listed under, besides the global one


@dataclass(frozen=True)
class Entitlement:
    """One platform entitlement, as the adapter read it (times as Unix seconds)."""

    id: str
    platform: str
    user_id: str
    sku_id: str
    ends_at: float | None = None  # None: until cancelled (one-time purchases, ongoing subscriptions)
    deleted: bool = False  # refunded or removed by the platform


class EntitlementBook:
    """Members' paid tiers, from their entitlements (`REELSMITH_DISCORD_SKU_TIERS` maps SKU ids to tiers)."""

    def __init__(self, redis: Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self.audit = AuditLog(redis, settings, clock)

    def tier_of(self, sku_id: str) -> str | None:
        """The quota tier an SKU gives; None for an SKU no tier is mapped to."""
        return self.settings.discord_sku_tiers.get(sku_id)

    def skus_for(self, tiers: list[str]) -> list[str]:
        """The SKUs that give any of `tiers`, in the order of `tiers` (offered as upgrades)."""
        mapping = self.settings.discord_sku_tiers
        return [sku for tier in tiers for sku, t in mapping.items() if t == tier]

    def _key(self, platform: str, user_id: str) -> str:
        return self.settings.key("billing", "entitlements", platform, user_id)

    async def apply(self, e: Entitlement) -> bool:
        """A created or updated entitlement: held while active, forgotten once deleted or ended. True if the
        member's tiers changed."""
        tier = self.tier_of(e.sku_id)
        if tier is None:
            log.info("entitlement %s is for SKU %s, which no tier is mapped to; ignored", e.id, e.sku_id)
            return False
        if e.deleted:
            return await self.remove(e, "deleted or refunded")
        if e.ends_at is not None and e.ends_at <= self.clock():
            return await self.remove(e, "ended")
        value = json.dumps({"sku": e.sku_id, "tier": tier, "ends_at": e.ends_at})
        key = self._key(e.platform, e.user_id)
        old = await self.redis.hget(key, e.id)
        if old is not None and as_text(old) == value:
            return False
        await self.redis.hset(key, e.id, value)
        ends = "" if e.ends_at is None else f", until {_iso(e.ends_at)}"
        action = "entitlement granted" if old is None else "entitlement updated"
        await self._log(e.platform, e.user_id, action, f"{tier} tier from SKU {e.sku_id} (entitlement {e.id}{ends})")
        return True

    async def remove(self, e: Entitlement, reason: str = "deleted or refunded") -> bool:
        """The entitlement no longer gives its tier. True if the member had it."""
        if not await self.redis.hdel(self._key(e.platform, e.user_id), e.id):
            return False
        tier = self.tier_of(e.sku_id) or "?"
        await self._log(e.platform, e.user_id, "entitlement removed",
                        f"{tier} tier from SKU {e.sku_id} (entitlement {e.id}: {reason})")
        return True

    async def sync(self, platform: str, user_id: str, current: list[Entitlement]) -> None:
        """The member's entitlements as an interaction lists them (the active ones): each is applied, and a stored
        one no longer listed is removed (it ended or was refunded while no event reached us)."""
        listed = {e.id for e in current}
        for e in current:
            await self.apply(e)
        for raw_id, raw in (await self.redis.hgetall(self._key(platform, user_id))).items():
            entitlement_id = as_text(raw_id)
            if entitlement_id not in listed:
                sku = str(json.loads(raw).get("sku", ""))
                await self.remove(Entitlement(entitlement_id, platform, user_id, sku), "no longer listed")

    async def tiers(self, platform: str, user_id: str) -> list[str]:
        """The tiers the member's active entitlements give now (an ended one is forgotten here)."""
        found: list[str] = []
        now = self.clock()
        for raw_id, raw in (await self.redis.hgetall(self._key(platform, user_id))).items():
            held = json.loads(raw)
            if held.get("ends_at") is not None and float(held["ends_at"]) <= now:
                await self.remove(Entitlement(as_text(raw_id), platform, user_id, str(held.get("sku", ""))), "ended")
                continue
            found.append(str(held["tier"]))
        return found

    async def _log(self, platform: str, user_id: str, action: str, detail: str) -> None:
        await self.audit.record("billing", platform, AUDIT_CHAT, user_id, action, detail)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
