"""Styles a chat's moderators add, per scope (`Requester.scope`) in Redis, next to the owner's styles."""

from __future__ import annotations

from arq.connections import ArqRedis

from core.queue.connection import as_text
from core.settings import Settings
from core.styles.catalog import Style


class ChatStyles:
    """One Redis hash per (platform, scope): style name -> the style as JSON."""

    def __init__(self, redis: ArqRedis, settings: Settings, owner_styles: dict[str, Style]) -> None:
        self.redis = redis
        self.settings = settings
        self.owner = owner_styles

    def _key(self, platform: str, scope: str) -> str:
        return self.settings.key("styles", platform, scope)

    async def chat(self, platform: str, scope: str) -> dict[str, Style]:
        """The styles this chat's moderators added, by name."""
        raw = await self.redis.hgetall(self._key(platform, scope))
        return {as_text(k): Style.model_validate_json(v) for k, v in sorted(raw.items())}

    async def available(self, platform: str, scope: str) -> dict[str, Style]:
        """Every style this chat may use: the owner's first, then its own."""
        return {**self.owner, **{n: s for n, s in (await self.chat(platform, scope)).items() if n not in self.owner}}

    async def find(self, platform: str, scope: str, name: str) -> Style | None:
        if name in self.owner:
            return self.owner[name]
        raw = await self.redis.hget(self._key(platform, scope), name)
        return Style.model_validate_json(raw) if raw is not None else None

    async def add(self, platform: str, scope: str, style: Style) -> None:
        await self.redis.hset(self._key(platform, scope), style.name, style.model_dump_json())

    async def remove(self, platform: str, scope: str, name: str) -> bool:
        return bool(await self.redis.hdel(self._key(platform, scope), name))

    async def count(self, platform: str, scope: str) -> int:
        return int(await self.redis.hlen(self._key(platform, scope)))
