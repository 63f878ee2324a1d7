"""Per-chat bans with an optional expiry, checked against an injectable clock."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from core.settings import Settings

Clock = Callable[[], float]

_DURATION_RE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int | None:
    """Seconds in `30m`, `2h`, `7d`, `1w`, `90s`; None if `text` is not a duration."""
    m = _DURATION_RE.match(text.strip().lower())
    return int(m.group(1)) * _UNITS[m.group(2)] if m else None


def describe_duration(seconds: float) -> str:
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

    def describe(self, now: float) -> str:
        span = "until lifted" if self.until is None else f"for another {describe_duration(self.until - now)}"
        return f"{self.user_id} banned {span}" + (f" ({self.reason})" if self.reason else "")


class Bans:
    """Bans live in one hash per chat (user -> JSON); expired ones are ignored and pruned lazily."""

    def __init__(self, redis: Redis, settings: Settings, clock: Clock = time.time) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock

    def _key(self, platform: str, chat_id: str) -> str:
        return self.settings.key("mod", "bans", platform, chat_id)

    async def ban(self, platform: str, chat_id: str, user_id: str, *, seconds: int | None = None,
                  reason: str = "", by: str = "") -> Ban:
        until = None if seconds is None else self.clock() + seconds
        entry = Ban(user_id, until, reason[:200], by)
        await self.redis.hset(self._key(platform, chat_id), user_id,
                              json.dumps({"until": until, "reason": entry.reason, "by": by}))
        return entry

    async def unban(self, platform: str, chat_id: str, user_id: str) -> bool:
        return bool(await self.redis.hdel(self._key(platform, chat_id), user_id))

    async def get(self, platform: str, chat_id: str, user_id: str) -> Ban | None:
        """The user's active ban in this chat, if any."""
        raw = await self.redis.hget(self._key(platform, chat_id), user_id)
        if raw is None:
            return None
        ban = self._decode(user_id, raw)
        if ban.until is not None and ban.until <= self.clock():
            await self.redis.hdel(self._key(platform, chat_id), user_id)
            return None
        return ban

    async def active(self, platform: str, chat_id: str) -> list[Ban]:
        raw = await self.redis.hgetall(self._key(platform, chat_id))
        now = self.clock()
        bans = [self._decode(k.decode() if isinstance(k, bytes) else k, v) for k, v in raw.items()]
        return sorted((b for b in bans if b.until is None or b.until > now), key=lambda b: b.user_id)

    @staticmethod
    def _decode(user_id: str, raw: bytes | str) -> Ban:
        data = json.loads(raw)
        until = data.get("until")
        return Ban(user_id, None if until is None else float(until), str(data.get("reason", "")),
                   str(data.get("by", "")))
