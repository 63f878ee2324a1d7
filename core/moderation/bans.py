"""Bans per scope (a Telegram chat, a Discord server) or platform-wide, with an optional expiry and a clock."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from redis.asyncio import Redis

from core.clock import Clock, system_clock
from core.i18n import _, duration_units
from core.queue.connection import as_text
from core.settings import Settings

_DURATION_RE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int | None:
    """Seconds in `30m`, `2h`, `7d`, `1w`, `90s`; None if `text` is not a duration."""
    m = _DURATION_RE.match(text.strip().lower())
    return int(m.group(1)) * _UNITS[m.group(2)] if m else None


def describe_duration(seconds: float) -> str:
    """`2h`, `30m`, `1w`: the audit log's (English) spelling; replies use `core.i18n.duration_units`."""
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{max(1, math.ceil(seconds))}s"


@dataclass(frozen=True)
class Ban:
    user_id: str
    until: float | None  # None: until lifted
    reason: str
    by: str

    def shown(self, now: float) -> str:
        """`describe` in the reader's language (for replies; the audit log keeps `describe`, in English)."""
        if self.until is None:
            text = _("{user} banned until lifted", user=self.user_id)
        else:
            text = _("{user} banned for another {duration}", user=self.user_id,
                     duration=duration_units(self.until - now))
        return text + (f" ({self.reason})" if self.reason else "")

    def describe(self, now: float) -> str:
        span = "until lifted" if self.until is None else f"for another {describe_duration(self.until - now)}"
        return f"{self.user_id} banned {span}" + (f" ({self.reason})" if self.reason else "")


class Bans:
    """Bans in one hash per scope (user -> JSON), plus each user's index of where they are banned.

    A scope is where a chat's moderators rule (`Requester.scope`); `None` is the whole platform (owners).
    The index lets a private chat with the bot honour bans from every group or server (see BanGuard).
    Expired bans are ignored and pruned lazily.
    """

    def __init__(self, redis: Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock

    def _key(self, platform: str, scope: str | None) -> str:
        if scope is None:
            return self.settings.key("mod", "bans-platform", platform)
        return self.settings.key("mod", "bans", platform, scope)

    def _index(self, platform: str, user_id: str) -> str:
        return self.settings.key("mod", "banned-in", platform, user_id)

    async def ban(self, platform: str, scope: str | None, user_id: str, *, seconds: int | None = None,
                  reason: str = "", by: str = "") -> Ban:
        until = None if seconds is None else self.clock() + seconds
        entry = Ban(user_id, until, reason[:200], by)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(platform, scope), user_id,
                      json.dumps({"until": until, "reason": entry.reason, "by": by}))
            if scope is not None:
                pipe.hset(self._index(platform, user_id), scope, "" if until is None else str(until))
            await pipe.execute()
        return entry

    async def unban(self, platform: str, scope: str | None, user_id: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key(platform, scope), user_id)
            if scope is not None:
                pipe.hdel(self._index(platform, user_id), scope)
            removed, *_ = await pipe.execute()
        return bool(removed)

    async def get(self, platform: str, scope: str | None, user_id: str) -> Ban | None:
        """The user's active ban in this scope (None: platform-wide), if any."""
        raw = await self.redis.hget(self._key(platform, scope), user_id)
        if raw is None:
            return None
        ban = self._decode(user_id, raw)
        if ban.until is not None and ban.until <= self.clock():
            await self.unban(platform, scope, user_id)
            return None
        return ban

    async def banned_anywhere(self, platform: str, user_id: str) -> bool:
        """Whether the user has an active ban in any scope of the platform."""
        raw = await self.redis.hgetall(self._index(platform, user_id))
        now = self.clock()
        expired = [k for k, v in raw.items() if v and float(v) <= now]
        if expired:
            await self.redis.hdel(self._index(platform, user_id), *expired)
        return len(raw) > len(expired)

    async def active(self, platform: str, scope: str | None) -> list[Ban]:
        raw = await self.redis.hgetall(self._key(platform, scope))
        now = self.clock()
        bans = [self._decode(as_text(k), v) for k, v in raw.items()]
        return sorted((b for b in bans if b.until is None or b.until > now), key=lambda b: b.user_id)

    @staticmethod
    def _decode(user_id: str, raw: bytes | str) -> Ban:
        data = json.loads(raw)
        until = data.get("until")
        return Ban(user_id, None if until is None else float(until), str(data.get("reason", "")),
                   str(data.get("by", "")))
