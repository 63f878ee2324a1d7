"""The worker fleet as Redis sees it: each worker announces the models it keeps warm, with a heartbeat.

A worker loads the models it serves (`worker_models`, else the defaults of `worker_families`) at start-up and keeps
them resident; jobs of other families are left to workers that hold theirs (workers/settings.py).
`loads` and `switches` (loads after warm-up, e.g. a job taken after `route_grace_s` because no worker
of its family was there) show when a job had to wait for a model.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from core.settings import Settings


class WorkerInfo(BaseModel):
    name: str
    device: str
    families: list[str] = Field(default_factory=list)  # the families it takes jobs for
    models: dict[str, str] = Field(default_factory=dict)  # warm catalog model -> its source (path or hub id)
    loads: int = 0
    switches: int = 0
    evictions: int = 0  # models dropped to make room for another (worker_max_models, worker_memory_gb)
    jobs_done: int = 0
    started_at: float = Field(default_factory=time.time)
    seen_at: float = Field(default_factory=time.time)


def _key(settings: Settings, name: str = "") -> str:
    return settings.key("workers", name) if name else settings.key("workers")


async def announce(redis: Redis, settings: Settings, info: WorkerInfo, ttl_s: float) -> None:
    """Publish (or refresh) this worker's entry; it disappears `ttl_s` after the last heartbeat."""
    info.seen_at = time.time()
    await redis.set(_key(settings, info.name), info.model_dump_json(), px=int(ttl_s * 1000))


async def withdraw(redis: Redis, settings: Settings, name: str) -> None:
    await redis.delete(_key(settings, name))


async def workers(redis: Redis, settings: Settings) -> list[WorkerInfo]:
    """The live workers, by name."""
    out = []
    async for key in redis.scan_iter(match=_key(settings, "*"), count=100):
        raw = await redis.get(key)
        if raw:
            out.append(WorkerInfo.model_validate_json(raw))
    return sorted(out, key=lambda w: w.name)
