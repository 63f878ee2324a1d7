"""arq worker settings built from the one Settings object."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from arq.constants import job_key_prefix
from arq.worker import Worker, func

from core.generation.pipeline import PipelineSet
from core.ops.metrics import worker_name
from core.queue import fleet, job_codec
from core.queue.connection import connect, redis_settings
from core.queue.fairness import RELAX_LANE, FairScheduler
from core.queue.fencing import Fence, epoch_key
from core.queue.jobs import JOB_FUNCTION
from core.settings import Settings
from workers.jobs import answer_expired, answer_unreadable, generate
from workers.lease import LeasedWorker
from workers.runtime import WorkerRuntime
from workers.wakeup import WakeupWorker

log = logging.getLogger(__name__)


class ReelsmithWorker(LeasedWorker, WakeupWorker):
    """Leased jobs and Redis-outage survival (LeasedWorker) on a loop that wakes on enqueue (WakeupWorker).

    A worker that keeps only some models warm (`worker_models` by catalog name, or `worker_families`: image
    or video) leaves other models' jobs to workers that hold theirs, unless a job has waited `route_grace_s`:
    then anyone takes it, so a fleet without a worker for some model still answers (the load is counted as
    a switch).

    Job records are JSON (core/queue/job_codec.py), never pickle. arq drops a record that does not decode
    (logging it, storing a failure result); this worker then answers the job's author from the job's
    own record, so a damaged or crafted entry is never run and nobody waits forever.

    Relax-lane jobs (core/quotas/relax.py) take idle time only: one starts only when this worker runs no job and
    no other job waits on the queue (then it finishes, even if other jobs arrive meanwhile).
    """

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, job_serializer=job_codec.dumps, job_deserializer=job_codec.loads, **kwargs)
        self.settings = settings
        self.families = frozenset(settings.worker_families)
        self.models = frozenset(m.lower() for m in settings.worker_models)
        self.skipped_for_routing = 0
        self._fair: FairScheduler | None = None  # for the relax lane's check (made once the pool exists)

    def holds(self, family: str, model: str) -> bool:
        """Whether jobs of this family (image, video, none) and catalog model are this worker's to take."""
        if family == "none":
            return True
        if self.models and model:
            return model in self.models
        return family in self.families

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        if not job_ids:
            await super().start_jobs(job_ids)
            return
        # Every batch is looked up: routing needs the family and model, the relax lane the lane.
        routing = bool(self.models) or not self.families >= {"image", "video"}
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(self.settings.key("job", job_id.decode()), ["family", "model", "queued_at", "lane"])
            records = await pipe.execute()
        now = time.time()
        mine, relax = [], []
        for job_id, (family, model, queued_at, lane) in zip(job_ids, records, strict=True):
            waited = now - float(queued_at) if queued_at else 0.0
            if routing and not self.holds(family.decode() if family else "none", model.decode() if model else "") \
                    and waited < self.settings.route_grace_s:
                self.skipped_for_routing += 1
            elif lane == RELAX_LANE.encode():
                relax.append(job_id)
            else:
                mine.append(job_id)
        await super().start_jobs(mine)
        if relax:
            await self._start_relax(relax)

    async def _start_relax(self, job_ids: list[bytes]) -> None:
        """Start one relax-lane job, only while this worker runs nothing and no other job waits anywhere."""
        if self.job_counter > 0 or not self.allow_pick_jobs:
            return
        if self._fair is None:
            self._fair = FairScheduler(self.pool, self.settings)
        if await self._fair.normal_waiting():
            return
        await super().start_jobs(job_ids[:1])

    def _fence(self) -> Fence | None:
        runtime: WorkerRuntime | None = self.ctx.get("runtime")
        return runtime.finisher.fence if runtime is not None else None

    def lease_fence(self, job_id: str) -> tuple[str, int] | None:
        fence = self._fence()
        token = fence.tokens.get(job_id) if fence is not None else None
        return None if token is None else (epoch_key(self.settings, job_id), token)

    async def main(self) -> None:
        if self._pool is None:
            # The one way to Redis (a URL, TLS, or Sentinel's current master): core/queue/connection.py.
            self._pool = await connect(self.settings)
        await super().main()

    async def finish_job(self, job_id: str, finish: bool, result_data: bytes | None,
                         result_timeout_s: float | None, keep_result_forever: bool, incr_score: int | None,
                         keep_in_progress: float | None) -> None:
        """arq's end of a run, except for a fenced-off (stale) run: the job, its in-progress key and its
        queue entry belong to the run holding the lease now, so a stale run leaves them alone."""
        fence = self._fence()
        token = fence.tokens.pop(job_id, None) if fence is not None else None
        if fence is not None and token is not None and not await fence.is_current(job_id, token):
            log.warning("job %s: stale run (fencing token %d) leaves the job to the run holding it now",
                        job_id, token)
            return
        await super().finish_job(job_id, finish, result_data, result_timeout_s, keep_result_forever,
                                 incr_score, keep_in_progress)

    async def finish_failed_job(self, job_id: str, result_data: bytes | None) -> None:
        raw = await self.pool.get(job_key_prefix + job_id)
        await super().finish_failed_job(job_id, result_data)
        if raw is not None and not job_codec.decodes(raw):
            # arq has already logged why; the author is told here (and refunded by the finalizers).
            await answer_unreadable(self.ctx, job_id)
        elif raw is None:
            await answer_expired(self.ctx, job_id)

    async def close(self) -> None:
        """arq's close, except that a job cancelled while it was being claimed cannot abort the shutdown."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        # arq gathers without return_exceptions: one job cancelled before its own try/except would raise
        # CancelledError here and skip the cleanup below (health key, on_shutdown, connection pool).
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.close(close_connection_pool=True)
        self._pool = None


def build_worker(settings: Settings, *, warm: bool = True, pipelines: PipelineSet | None = None,
                 handle_signals: bool = True, burst: bool = False) -> Worker:
    """An arq Worker that runs generation jobs with warm pipelines."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        runtime = WorkerRuntime(settings, ctx["redis"], pipelines)
        ctx["runtime"] = runtime
        if warm:
            await runtime.warm_up()
        ctx["ready"] = True  # the health endpoint reports ready from here on
        ctx["heartbeat"] = asyncio.create_task(runtime.announce_forever(worker_name(settings)))
        ctx["sweeper"] = asyncio.create_task(runtime.sweep_forever())
        log.info("worker ready on %s (device %s)", settings.queue_name, runtime.pipelines.device)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        heartbeat: asyncio.Task[None] | None = ctx.get("heartbeat")
        if heartbeat is not None:
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                await fleet.withdraw(ctx["redis"], settings, worker_name(settings))
        sweeper: asyncio.Task[None] | None = ctx.get("sweeper")
        if sweeper is not None:
            sweeper.cancel()
        runtime: WorkerRuntime | None = ctx.get("runtime")
        if runtime is not None:
            runtime.close()

    # The runtime enforces job_timeout_s itself (it stops the pipeline and answers); arq's own
    # limit is only a backstop behind it.
    backstop_s = settings.job_timeout_s + settings.job_lease_s + 30
    return ReelsmithWorker(
        settings=settings,
        # Leases are renewed from the poll loop: poll at least four times per lease even when idle.
        idle_poll_s=min(settings.poll_delay_s, settings.job_lease_s / 4),
        lease_s=settings.job_lease_s,
        functions=[func(generate, name=JOB_FUNCTION, timeout=backstop_s)],
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        max_jobs=settings.worker_max_jobs,
        job_timeout=backstop_s,
        # One extra try that only answers: see workers.jobs.generate.
        max_tries=settings.max_tries + 1,
        poll_delay=settings.poll_delay_s,
        keep_result=settings.job_keep_result_s,
        handle_signals=handle_signals,
        burst=burst,
        allow_abort_jobs=True,  # /mod cancel aborts running jobs
    )
