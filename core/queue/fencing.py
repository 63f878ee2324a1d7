"""Fencing tokens: each run of a job takes a new epoch, and only the latest run's result is posted and charged.

A worker cut off from Redis (a network partition, a long GC or swap stall) loses its lease: after `job_lease_s`
another worker reruns the job. When the first one comes back it still holds a finished result. Without a
fence it would post it (first to publish wins) and settle the charge, racing the rerun. Here every run takes
`INCR <prefix>:job:<id>:epoch` when it starts; the reply publish (core/queue/replies.py) and the reply record
write check, in the same Lua call, that the epoch is still theirs. A stale run's result is dropped: never
posted, never charged (finalizers only run after a publish), logged and counted (`reelsmith_stale_results`).

The token lives in a context variable of the job's task (arq runs each job in its own task), so every reply
the run sends (a result, a timeout, a failure) is fenced without threading the token through every call, and
in a per-process table the worker reads when arq finishes the job (workers/settings.py): a stale run leaves
arq's bookkeeping (in-progress key, queue entry) to the run that holds the lease now.
"""

from __future__ import annotations

import contextvars
import logging

from redis.asyncio import Redis

from core.ops.metrics import process_metrics
from core.queue.connection import replicated
from core.settings import Settings

log = logging.getLogger(__name__)

# (job id, token) of the run in the current task; None outside a fenced run (a moderator's cancel, a bot).
_held: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar("reelsmith_fence", default=None)

# KEYS: epoch, record.  ARGV: token, field, value, ttl.  1 when written, 0 when the token is stale.
_SAVE_IF_CURRENT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""


def epoch_key(settings: Settings, job_id: str) -> str:
    return settings.key("job", job_id, "epoch")


def held(job_id: str) -> int | None:
    """The token the current task's run of `job_id` holds, if it took one."""
    current = _held.get()
    return current[1] if current is not None and current[0] == job_id else None


class Fence:
    """Takes and checks fencing tokens for one worker process."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        # Tokens of this process's runs still in progress, for arq's own finish (popped there).
        self.tokens: dict[str, int] = {}
        self._save = redis.register_script(_SAVE_IF_CURRENT)

    async def take(self, job_id: str) -> int:
        """Start a run: a new epoch for the job, held by the current task. Earlier runs are stale from now on."""
        key = epoch_key(self.settings, job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.settings.result_ttl_s)
            token, _ = await pipe.execute()
        await replicated(self.redis, self.settings, "fencing token")
        _held.set((job_id, int(token)))
        self.tokens[job_id] = int(token)
        return int(token)

    async def is_current(self, job_id: str, token: int) -> bool:
        raw = await self.redis.get(epoch_key(self.settings, job_id))
        return raw is not None and int(raw) == token

    async def save_if_current(self, record_key: str, job_id: str, token: int, field: str, value: str) -> bool:
        """HSET the job record's `field` only while `token` is the job's epoch (atomic with the check)."""
        written = await self._save(keys=[epoch_key(self.settings, job_id), record_key],
                                   args=[token, field, value, self.settings.result_ttl_s])
        return bool(written)


def dropped_stale(job_id: str, token: int, what: str) -> None:
    """Log and count a stale run's result that was not posted or charged."""
    log.warning("job %s: run with fencing token %d lost its lease to a later run; its %s was dropped "
                "(not posted, not charged)", job_id, token, what)
    process_metrics().stale_results.inc()
