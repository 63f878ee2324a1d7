"""arq job functions."""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Retry

from core.types import GenerationRequest
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)


async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Render one request; transient failures are retried by arq with a growing delay."""
    runtime: WorkerRuntime = ctx["runtime"]
    request = GenerationRequest.model_validate(payload)
    job_try = int(ctx.get("job_try", 1))
    enqueue_time = ctx.get("enqueue_time")
    enqueued_at = enqueue_time.timestamp() if enqueue_time is not None else None
    try:
        return await runtime.run(request, job_try=job_try, enqueued_at=enqueued_at)
    except Exception as exc:
        log.warning("job %s try %d failed: %s", request.job_id, job_try, type(exc).__name__)
        raise Retry(defer=min(2 ** job_try, 30)) from exc
