"""arq job functions."""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Retry

from core.types import GenerationRequest
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)


async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Render one request; transient failures are retried by arq with a growing delay.

    arq allows one try more than `max_tries`: a job whose workers kept dying (killed, out of
    memory) reaches that extra try without ever having answered, and it only sends the failure
    reply, so the member is told and refunded instead of the job vanishing.
    """
    runtime: WorkerRuntime = ctx["runtime"]
    request = GenerationRequest.model_validate(payload)
    job_try = int(ctx.get("job_try", 1))
    enqueue_time = ctx.get("enqueue_time")
    enqueued_at = enqueue_time.timestamp() if enqueue_time is not None else None
    try:
        if job_try > runtime.settings.max_tries:
            log.warning("job %s: %d tries used up (its workers stopped); answering with a failure",
                        request.job_id, job_try - 1)
            await runtime.give_up(request, job_try - 1, "the worker stopped")
            return {"error": "tries exhausted"}
        return await runtime.run(request, job_try=job_try, enqueued_at=enqueued_at)
    except Exception as exc:
        log.warning("job %s try %d failed: %s", request.job_id, job_try, type(exc).__name__)
        raise Retry(defer=min(2 ** job_try, 30)) from exc
