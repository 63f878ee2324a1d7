"""Paid tiers from platform entitlements (Discord SKUs): which SKU gives which quota tier, and each member's
active entitlements kept in Redis, so the tier the quota book applies follows purchases, renewals, expiry and
refunds.

Adapters hand over what the platform says: its entitlement events (Discord ENTITLEMENT_CREATE, _UPDATE and
_DELETE) through `apply`/`remove`, and the entitlements an interaction carries through `sync`. One hash per
member holds entitlement id -> SKU, tier and end; `tiers` answers which tiers hold now. An entitlement that is
deleted (refunded or removed by the platform) or whose `ends_at` has passed gives nothing and is forgotten.
A server's entitlement (a Discord server subscription: `guild_id`, no user) is held for the server and gives its
tier to every member's requests made in that server. Every grant and removal is in the audit log (kind `billing`).
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
    scope: str = ""  # a server's entitlement (Discord guild subscription): that server's id; `user_id` is then ""

    @property
    def owner(self) -> str:
        """Whose it is: the member's user id, or `scope:<id>` for a server's."""
        return scope_owner(self.scope) if self.scope else self.user_id


def scope_owner(scope: str) -> str:
    """The owner name a server's entitlements are kept under (never a user id: those are digits)."""
    return f"scope:{scope}"


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

    def _key(self, platform: str, owner: str) -> str:
        return self.settings.key("billing", "entitlements", platform, owner)

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
        key = self._key(e.platform, e.owner)
        old = await self.redis.hget(key, e.id)
        if old is not None and as_text(old) == value:
            return False
        await self.redis.hset(key, e.id, value)
        ends = "" if e.ends_at is None else f", until {_iso(e.ends_at)}"
        action = "entitlement granted" if old is None else "entitlement updated"
        await self._log(e.platform, e.owner, action, f"{tier} tier from SKU {e.sku_id} (entitlement {e.id}{ends})")
        return True

    async def remove(self, e: Entitlement, reason: str = "deleted or refunded") -> bool:
        """The entitlement no longer gives its tier. True if the member had it."""
        if not await self.redis.hdel(self._key(e.platform, e.owner), e.id):
            return False
        tier = self.tier_of(e.sku_id) or "?"
        await self._log(e.platform, e.owner, "entitlement removed",
                        f"{tier} tier from SKU {e.sku_id} (entitlement {e.id}: {reason})")
        return True

    async def sync(self, platform: str, user_id: str, current: list[Entitlement], scope: str = "") -> None:
        """The member's entitlements (or, with `scope`, that server's) as an interaction lists them (the active
        ones): each is applied, and a stored one no longer listed is removed (it ended or was refunded while no
        event reached us)."""
        listed = {e.id for e in current}
        for e in current:
            await self.apply(e)
        owner = scope_owner(scope) if scope else user_id
        for raw_id, raw in (await self.redis.hgetall(self._key(platform, owner))).items():
            entitlement_id = as_text(raw_id)
            if entitlement_id not in listed:
                sku = str(json.loads(raw).get("sku", ""))
                gone = Entitlement(entitlement_id, platform, "" if scope else user_id, sku, scope=scope)
                await self.remove(gone, "no longer listed")

    async def tiers(self, platform: str, user_id: str, scopes: tuple[str, ...] = ()) -> list[str]:
        """The tiers active entitlements give now: the member's own, and those of the servers in `scopes` (where
        the request is made); an ended one is forgotten here."""
        found: list[str] = []
        now = self.clock()
        owners = [(user_id, "")] + [(scope_owner(s), s) for s in dict.fromkeys(scopes) if s]
        for owner, scope in owners:
            for raw_id, raw in (await self.redis.hgetall(self._key(platform, owner))).items():
                held = json.loads(raw)
                if held.get("ends_at") is not None and float(held["ends_at"]) <= now:
                    ended = Entitlement(as_text(raw_id), platform, "" if scope else user_id, str(held.get("sku", "")),
                                        scope=scope)
                    await self.remove(ended, "ended")
                    continue
                found.append(str(held["tier"]))
        return list(dict.fromkeys(found))

    async def _log(self, platform: str, user_id: str, action: str, detail: str) -> None:
        await self.audit.record("billing", platform, AUDIT_CHAT, user_id, action, detail)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))
