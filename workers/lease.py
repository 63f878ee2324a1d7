"""A worker lease: running jobs hold a short, renewed in-progress key, and Redis outages are survived."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
MAX_BACKOFF_S = 10.0

# KEYS: in-progress key[, fencing epoch].  ARGV: lease ms, token ('' when unfenced).
# PEXPIRE never creates a key: a job that just finished is not re-locked.
_RENEW_IF_CURRENT = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
"""


class LeasedWorker(Worker):
    """An arq Worker whose running jobs hold a short, renewed lease, and that outlives Redis outages.

    arq marks a started job with an in-progress key that lives as long as the job's time limit;
    a job whose worker was killed only runs again once that key expires (minutes). Here the key
    lives `lease_s` and this worker renews it while the job runs, so a dead worker's job is
    picked up by another within `lease_s`. Lost connections are retried with backoff instead of
    ending the worker.
    """

    def __init__(self, *args: Any, lease_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease_s = lease_s
        self.in_progress_timeout_s = lease_s
        self._renewed_at = 0.0
        self._backoff_s = 0.0

    async def _poll_iteration(self) -> None:
        try:
            await self._renew_leases()
            await super()._poll_iteration()
        except REDIS_DOWN as exc:
            self._backoff_s = min(MAX_BACKOFF_S, max(0.2, self._backoff_s * 2))
            log.warning("worker: redis unavailable (%s); retrying in %.1fs", type(exc).__name__, self._backoff_s)
            await asyncio.sleep(self._backoff_s)
        else:
            if self._backoff_s:
                log.info("worker: redis reachable again")
            self._backoff_s = 0.0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            if job_id.decode() in self.tasks:
                # Still ours (its lease lapsed while this loop stalled): never run a job twice at once.
                continue
            taken = self.job_counter
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                self._give_back_slot(job_id, taken)
                raise
            except WatchError as exc:
                # redis-py reports a connection lost while arq WATCHes the job's key (a failover, a restart) as
                # a WatchError, not a ConnectionError: an outage like any other, not the end of this worker.
                if not isinstance(exc.__context__, REDIS_DOWN):
                    raise
                self._give_back_slot(job_id, taken)
                raise RedisConnectionError(f"connection lost while claiming job {job_id.decode()}") from exc

    def _give_back_slot(self, job_id: bytes, taken: int) -> None:
        """arq counted the slot before the claim failed; give it back or it leaks forever."""
        if job_id.decode() not in self.tasks and self.job_counter > taken:
            self.job_counter -= 1
            self.sem.release()

    def lease_fence(self, job_id: str) -> tuple[str, int] | None:
        """The (epoch key, token) of this worker's run of `job_id`, when runs are fenced (workers/settings.py)."""
        return None

    async def _renew_leases(self) -> None:
        now = time.monotonic()
        if not self.tasks or now - self._renewed_at < self.lease_s / 4:
            return
        self._renewed_at = now
        renew = self.pool.register_script(_RENEW_IF_CURRENT)
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in self.tasks:
                # A run that lost its lease to a later run (fenced) must not keep that run's lease alive:
                # the in-progress key is the job's, not this worker's.
                epoch_key, token = self.lease_fence(job_id) or ("", "")
                keys = [in_progress_key_prefix + job_id, *([epoch_key] if epoch_key else [])]
                await renew(keys=keys, args=[int(self.lease_s * 1000), token], client=pipe)
            await pipe.execute()
