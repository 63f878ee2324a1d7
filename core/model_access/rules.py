"""Per-chat model rules, set by the chat's moderators: models turned off here, and this chat's default per task.

Keyed by platform and `Requester.scope` (the Telegram chat, the Discord server), so one chat's rules never
reach another. They only narrow what the owner's models file offers: a moderator cannot hand a chat a model
the owner kept for other chats or tiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.models.tasks import Task
from core.settings import Settings


@dataclass(frozen=True)
class ChatRules:
    """One chat's rules: the models denied here and its defaults (task -> model name)."""

    denied: frozenset[str] = frozenset()
    defaults: dict[Task, str] = field(default_factory=dict)


class ModelRules:
    """The chat rules in Redis: a set of denied names and a hash of defaults per (platform, scope)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _key(self, platform: str, scope: str, what: str) -> str:
        return self.settings.key("models", platform, scope, what)

    async def get(self, platform: str, scope: str) -> ChatRules:
        denied = await self.redis.smembers(self._key(platform, scope, "denied"))  # type: ignore[misc]
        raw = await self.redis.hgetall(self._key(platform, scope, "defaults"))  # type: ignore[misc]
        defaults: dict[Task, str] = {}
        for task, name in raw.items():
            try:
                defaults[Task(_text(task))] = _text(name)
            except ValueError:  # a task this version no longer knows: ignore it
                continue
        return ChatRules(frozenset(_text(d) for d in denied), defaults)

    async def deny(self, platform: str, scope: str, name: str) -> None:
        """Turn a model off here; it stops being a default here too."""
        await self.redis.sadd(self._key(platform, scope, "denied"), name)  # type: ignore[misc]
        rules = await self.get(platform, scope)
        stale = [t.value for t, n in rules.defaults.items() if n == name]
        if stale:
            await self.redis.hdel(self._key(platform, scope, "defaults"), *stale)  # type: ignore[misc]

    async def allow(self, platform: str, scope: str, name: str) -> bool:
        """Turn a model back on here; False when it was not off."""
        return bool(await self.redis.srem(self._key(platform, scope, "denied"), name))  # type: ignore[misc]

    async def set_default(self, platform: str, scope: str, name: str, tasks: list[Task]) -> None:
        await self.redis.hset(self._key(platform, scope, "defaults"),  # type: ignore[misc]
                              mapping={t.value: name for t in tasks})

    async def reset(self, platform: str, scope: str) -> None:
        await self.redis.delete(self._key(platform, scope, "denied"), self._key(platform, scope, "defaults"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
