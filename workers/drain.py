"""Graceful stop for a worker: take no new jobs, let the running ones finish, then close.

Kubernetes (KEDA scaling down, a rollout) and compose send SIGTERM and wait the grace period before
killing; a job cut off anyway is re-queued by arq and runs again on another worker, but draining
first saves the GPU time already spent on it.
"""

from __future__ import annotations

import asyncio
import logging

from arq.worker import Worker

log = logging.getLogger(__name__)


async def drain_worker(worker: Worker, timeout_s: float, interrupt: asyncio.Event | None = None) -> int:
    """Stop picking jobs and wait up to `timeout_s` (or until `interrupt` is set) for the running ones.

    Returns how many were still running when the wait ended (arq's close() then cancels and re-queues them).
    """
    worker.allow_pick_jobs = False
    running = [t for t in worker.tasks.values() if not t.done()]
    if not running:
        return 0
    log.info("stopping: waiting up to %.0fs for %d running job(s)", timeout_s, len(running))
    waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(asyncio.wait(running, timeout=timeout_s))}
    if interrupt is not None:
        waiters.add(asyncio.ensure_future(interrupt.wait()))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
    left = sum(not t.done() for t in running)
    if left:
        log.warning("stopping with %d job(s) still running; they will run again on another worker", left)
    return left
