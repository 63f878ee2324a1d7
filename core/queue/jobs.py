"""The queue client: puts generation requests on the arq queue and answers where they stand."""

from __future__ import annotations

from arq.connections import ArqRedis

from core.queue import job_codec
from core.queue.connection import as_text, replicated
from core.queue.fairness import RELAX_LANE, RELAX_TIER, FairScheduler
from core.quotas.costs import job_cost
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest

JOB_FUNCTION = "generate"


def wake_channel(queue_name: str) -> str:
    """Pub/sub channel that wakes idle workers of `queue_name` (see workers/wakeup.py)."""
    return f"{queue_name}:wake"


class JobQueue:
    def __init__(self, arq: ArqRedis, settings: Settings) -> None:
        if arq.job_serializer is not job_codec.dumps or arq.job_deserializer is not job_codec.loads:
            # arq would fall back to pickle, and a pickled queue runs whatever anyone who can write Redis puts there.
            raise ValueError("JobQueue needs a pool with the JSON job codec: use core.queue.connection.connect()")
        self.arq = arq
        self.settings = settings
        self.fair = FairScheduler(arq, settings)

    def record_key(self, job_id: str) -> str:
        return self.settings.key("job", job_id)

    async def enqueue(self, request: GenerationRequest) -> int:
        """Queue a request; returns its 1-based queue position."""
        key = self.record_key(request.job_id)
        async with self.arq.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={
                "state": "queued",
                "request": request.model_dump_json(),
                "platform": request.requester.platform,
                "chat": request.requester.chat_id,
                "user": request.requester.user_id,
                # Workers that keep only some model families warm route on these (workers/settings.py).
                "family": request.kind.family,
                "model": request.model,
                "queued_at": request.created_at,
                # Relax-lane jobs run only while nothing else waits (core/queue/fairness.py).
                "lane": RELAX_LANE if request.tier == RELAX_TIER else "main",
            })
            pipe.expire(key, self.settings.result_ttl_s)
            await pipe.execute()
        payload = request.model_dump(mode="json")
        if self.settings.fair_queueing:
            # Fair share instead of arrival order (core/queue/fairness.py); the rank is the fair position.
            rank = await self.fair.enqueue(
                JOB_FUNCTION, payload, job_id=request.job_id, platform=request.requester.platform,
                user_id=request.requester.user_id, cost=job_cost(request, self.settings), weight=request.priority,
                relax=request.tier == RELAX_TIER,
            )
            if rank is None:
                raise RuntimeError(f"job {request.job_id} already exists")
            await replicated(self.arq, self.settings, "job accepted")
            await self.wake_workers()
            return rank + 1
        job = await self.arq.enqueue_job(
            JOB_FUNCTION,
            payload,
            _job_id=request.job_id,
            _queue_name=self.settings.queue_name,
            _expires=self.settings.relax_job_ttl_s if request.tier == RELAX_TIER else None,
        )
        if job is None:
            raise RuntimeError(f"job {request.job_id} already exists")
        await replicated(self.arq, self.settings, "job accepted")
        await self.wake_workers()
        return await self.position(request.job_id) or 1

    async def wake_workers(self) -> None:
        """Tell idle workers there is work now, so pickup does not wait for their next poll."""
        await self.arq.publish(wake_channel(self.settings.queue_name), b"1")

    async def position(self, job_id: str) -> int | None:
        """1-based position among waiting jobs, or None once it has started (or is unknown)."""
        rank = await self.arq.zrank(self.settings.queue_name, job_id)
        return None if rank is None else int(rank) + 1

    async def set_state(self, job_id: str, state: str) -> None:
        await self._update(job_id, "state", state)

    async def _update(self, job_id: str, field: str, value: str) -> None:
        # Each write renews the record's TTL: a record that expired while its job waited would
        # otherwise come back from this HSET without any TTL and never leave Redis.
        key = self.record_key(job_id)
        async with self.arq.pipeline(transaction=True) as pipe:
            pipe.hset(key, field, value)
            pipe.expire(key, self.settings.result_ttl_s)
            await pipe.execute()

    async def state(self, job_id: str) -> str | None:
        raw = await self.arq.hget(self.record_key(job_id), "state")
        return None if raw is None else as_text(raw)

    async def depth(self) -> int:
        return int(await self.arq.zcard(self.settings.queue_name))

    async def load_request(self, job_id: str) -> GenerationRequest | None:
        """The request as queued, while its record lasts (result_ttl_s)."""
        if not job_id.isalnum():
            return None
        raw = await self.arq.hget(self.record_key(job_id), "request")
        return GenerationRequest.model_validate_json(raw) if raw else None

    async def save_reply(self, reply: GenerationReply) -> None:
        await self._update(reply.job_id, "reply", reply.model_dump_json())

    async def load_reply(self, job_id: str) -> GenerationReply | None:
        raw = await self.arq.hget(self.record_key(job_id), "reply")
        return GenerationReply.model_validate_json(raw) if raw else None
