"""Adapter-side delivery state kept in Redis, so a restarted bot still knows where each job's messages are.

Used by every chat adapter: where the "Queued" status message of a job lives (to edit it with
progress), a throttle for those edits (platform rate limits), and a delivered marker that makes
posting a result idempotent when a reply-stream entry is redelivered after a crash.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from core.settings import Settings


class DeliveryState:
    def __init__(self, redis: Redis, settings: Settings, platform: str) -> None:
        self.redis = redis
        self.settings = settings
        self.platform = platform

    def _key(self, job_id: str, what: str) -> str:
        return self.settings.key("delivery", self.platform, job_id, what)

    async def remember_status(self, job_id: str, ref: dict[str, str]) -> None:
        """Where the job's status message is (chat id, message id ...: platform-specific, non-secret)."""
        await self.redis.set(self._key(job_id, "status"), json.dumps(ref), ex=self.settings.result_ttl_s)

    async def status(self, job_id: str) -> dict[str, str] | None:
        raw = await self.redis.get(self._key(job_id, "status"))
        return dict(json.loads(raw)) if raw else None

    async def claim_edit(self, job_id: str, min_interval_s: float) -> bool:
        """True at most once per `min_interval_s` per job: throttles progress edits."""
        ms = max(1, int(min_interval_s * 1000))
        return bool(await self.redis.set(self._key(job_id, "edit"), "1", nx=True, px=ms))

    async def delivered(self, job_id: str) -> dict[str, str] | None:
        """The result message(s) already posted for this job, if any."""
        raw = await self.redis.get(self._key(job_id, "result"))
        return dict(json.loads(raw)) if raw else None

    async def mark_delivered(self, job_id: str, ref: dict[str, str]) -> None:
        await self.redis.set(self._key(job_id, "result"), json.dumps(ref), ex=self.settings.result_ttl_s)
