"""Each member's recent results per chat scope (a capped Redis list of job ids, expiring with the results),
what they typed before a style applied, and which results they deleted."""

from __future__ import annotations

import json

from arq.connections import ArqRedis

from core.contract import Shaping
from core.queue.connection import as_text
from core.selfservice.command_text import Typed
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, Requester

HISTORY_LENGTH = 10


class History:
    def __init__(self, redis: ArqRedis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _list_key(self, who: Requester) -> str:
        return self.settings.key("self", "history", who.platform, who.scope, who.user_id)

    def _typed_key(self, job_id: str) -> str:
        return self.settings.key("self", "typed", job_id)

    def _deleted_key(self, job_id: str) -> str:
        return self.settings.key("self", "deleted", job_id)

    # ---- what the member typed (a command step, before styles reshape the request) --------
    async def remember_typed(self, shaping: Shaping) -> GenerationRequest:
        r = shaping.request
        typed = {"prompt": r.prompt, "negative_prompt": r.negative_prompt, "aspect_ratio": r.aspect_ratio,
                 "aspect_given": shaping.aspect_given}
        await self.redis.set(self._typed_key(r.job_id), json.dumps(typed), ex=self.settings.result_ttl_s)
        return r

    async def typed(self, job_id: str) -> Typed | None:
        raw = await self.redis.get(self._typed_key(job_id))
        return Typed(**json.loads(raw)) if raw else None

    # ---- results (a finalizer, once per finished job) -----------------------------------
    async def record(self, request: GenerationRequest, reply: GenerationReply) -> None:
        if reply.error or not reply.media:
            return
        key = self._list_key(request.requester)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(key, 0, request.job_id)
            pipe.lpush(key, request.job_id)
            pipe.ltrim(key, 0, HISTORY_LENGTH - 1)
            pipe.expire(key, self.settings.result_ttl_s)
            await pipe.execute()

    async def recent(self, who: Requester) -> list[str]:
        """The member's job ids in this scope, newest first (deleted ones left out)."""
        ids = [as_text(x) for x in await self.redis.lrange(self._list_key(who), 0, HISTORY_LENGTH - 1)]
        return [job_id for job_id in ids if not await self.redis.exists(self._deleted_key(job_id))]

    async def mark_deleted(self, job_id: str) -> bool:
        """Record the deletion once; False if it was already deleted."""
        return bool(await self.redis.set(self._deleted_key(job_id), "1", nx=True, ex=self.settings.result_ttl_s))

    async def was_deleted(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self._deleted_key(job_id)))
