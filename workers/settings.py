"""arq worker settings built from the one Settings object."""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Worker, func

from core.jobqueue import JOB_FUNCTION
from core.pipeline import PipelineSet
from core.redis_conn import redis_settings
from core.settings import Settings
from workers.jobs import generate
from workers.runtime import WorkerRuntime
from workers.wakeup import WakeupWorker

log = logging.getLogger(__name__)


def build_worker(settings: Settings, *, warm: bool = True, pipelines: PipelineSet | None = None,
                 handle_signals: bool = True, burst: bool = False) -> Worker:
    """An arq Worker that runs generation jobs with warm pipelines."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        runtime = WorkerRuntime(settings, ctx["redis"], pipelines)
        ctx["runtime"] = runtime
        if warm:
            await runtime.warm_up()
        ctx["ready"] = True  # the health endpoint reports ready from here on
        log.info("worker ready on %s (device %s)", settings.queue_name, runtime.pipelines.device)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        runtime: WorkerRuntime | None = ctx.get("runtime")
        if runtime is not None:
            runtime.close()

    return WakeupWorker(
        idle_poll_s=settings.poll_delay_s,
        functions=[func(generate, name=JOB_FUNCTION, timeout=settings.job_timeout_s)],
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        max_jobs=settings.worker_max_jobs,
        job_timeout=settings.job_timeout_s,
        max_tries=settings.max_tries,
        poll_delay=settings.poll_delay_s,
        keep_result=60,
        handle_signals=handle_signals,
        burst=burst,
        allow_abort_jobs=True,  # /mod cancel aborts running jobs
    )
