"""Provenance registry: job id -> who asked, where, when, with which model and prompt hash.

Kept in Redis for `provenance_retention_s`. A second index maps the 32-bit watermark payload back
to job ids (a set: two jobs can share a payload), so a recompressed copy with no metadata left
can still be traced while its record is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from core.labelling.watermark import payload_for, payload_hex
from core.queue.connection import as_text
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest


@dataclass(frozen=True)
class ProvenanceRecord:
    job_id: str
    platform: str
    user_id: str
    chat_id: str
    display_name: str
    created_at: float
    kind: str
    model: str
    prompt_sha256: str
    scope: str = ""  # where the job's chat moderators rule (Discord: the server); "" on older records: chat_id
    source_job: str = ""  # the job whose clip this one continues (extend), else ""

    @property
    def moderated_in(self) -> str:
        return self.scope or self.chat_id


def prompt_hash(prompt: str) -> str:
    """SHA-256 of the prompt: proves which prompt was used without the registry keeping its text."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


class ProvenanceRegistry:
    def __init__(self, redis: Any, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _job_key(self, job_id: str) -> str:
        return self.settings.key("prov", "job", job_id)

    def _mark_key(self, payload: int) -> str:
        return self.settings.key("prov", "mark", payload_hex(payload))

    async def record(self, request: GenerationRequest, reply: GenerationReply) -> None:
        """Register a finished job (idempotent: a retried finalizer writes the same record)."""
        if reply.error is not None:
            return
        rq = request.requester
        rec = ProvenanceRecord(
            job_id=request.job_id, platform=rq.platform, user_id=rq.user_id, chat_id=rq.chat_id,
            display_name=rq.display_name, created_at=request.created_at, kind=request.kind.value,
            model=reply.model, prompt_sha256=prompt_hash(request.prompt), scope=rq.scope,
            source_job=request.source_job,
        )
        ttl = self.settings.provenance_retention_s
        mark = self._mark_key(payload_for(request.job_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._job_key(request.job_id), mapping={k: str(v) for k, v in asdict(rec).items()})
            pipe.expire(self._job_key(request.job_id), ttl)
            pipe.sadd(mark, request.job_id)
            pipe.expire(mark, ttl)
            await pipe.execute()

    async def get(self, job_id: str) -> ProvenanceRecord | None:
        if not job_id or len(job_id) > 64:
            return None
        raw = await self.redis.hgetall(self._job_key(job_id))
        if not raw:
            return None
        data = {as_text(k): as_text(v) for k, v in raw.items()}
        try:
            return ProvenanceRecord(
                job_id=data["job_id"], platform=data["platform"], user_id=data["user_id"],
                chat_id=data["chat_id"], display_name=data.get("display_name", ""),
                created_at=float(data["created_at"]), kind=data["kind"], model=data["model"],
                prompt_sha256=data["prompt_sha256"], scope=data.get("scope", ""),
                source_job=data.get("source_job", ""),
            )
        except (KeyError, ValueError):
            return None

    async def jobs_for_payload(self, payload: int) -> list[str]:
        """Job ids whose watermark payload is `payload` (normally one), sorted."""
        members = await self.redis.smembers(self._mark_key(payload))
        return sorted(as_text(m) for m in members)
