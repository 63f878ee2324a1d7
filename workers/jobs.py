"""arq job functions."""

from __future__ import annotations

import logging
import time
from typing import Any

from arq.worker import Retry
from pydantic import ValidationError

from core.i18n import N_, locale_of, translate, use_locale
from core.queue.fairness import RELAX_TIER
from core.quotas.relax import RELAX_EXPIRED_TEXT
from core.types import GenerationRequest
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)

UNREADABLE_TEXT = N_("Sorry, this job's queue entry could not be read, so it was not run. Nothing was charged; "
                     "send the command again.")  # translated where sent (`_answer`)


async def _recorded(runtime: WorkerRuntime | None, job_id: str) -> GenerationRequest | None:
    """The request in a job's record (JSON, validated), or None without a runtime or a readable record."""
    try:
        return await runtime.queue.load_request(job_id) if runtime is not None else None
    except ValidationError:
        return None


async def _answer(runtime: WorkerRuntime, request: GenerationRequest, text: str) -> None:
    try:
        with use_locale(locale_of(request)):
            await runtime._reply_error(request, translate(text), time.perf_counter())
    except Exception:  # Redis trouble here must not take the worker's job loop with it
        log.exception("job %s: could not answer its author", request.job_id)


async def answer_unreadable(ctx: dict[str, Any], job_id: str) -> None:
    """Answer a job whose queue payload was refused, from the request in its job record.

    Without a record there is nobody to tell: the entry is only dropped (and logged).
    """
    runtime: WorkerRuntime | None = ctx.get("runtime")
    request = await _recorded(runtime, job_id)
    if runtime is None or request is None:
        log.error("job %s: unreadable queue entry dropped; no job record to answer from", job_id[:64])
        return
    log.error("job %s: unreadable queue entry dropped; answering its author", job_id)
    await _answer(runtime, request, UNREADABLE_TEXT)


async def answer_expired(ctx: dict[str, Any], job_id: str) -> None:
    """Answer a relax-lane job whose queue entry expired before idle GPUs came (`relax_job_ttl_s`), from its
    job record, so a member who waited is told instead of the job vanishing. Other expired entries: arq's log."""
    runtime: WorkerRuntime | None = ctx.get("runtime")
    request = await _recorded(runtime, job_id)
    if runtime is None or request is None or request.tier != RELAX_TIER:
        return
    log.warning("job %s: relax-lane entry expired before it could run; answering its author", job_id)
    await _answer(runtime, request, RELAX_EXPIRED_TEXT)


async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Render one request; transient failures are retried by arq with a growing delay.

    arq allows one try more than `max_tries`: a job whose workers kept dying (killed, out of
    memory) reaches that extra try without ever having answered, and it only sends the failure
    reply, so the member is told and refunded instead of the job vanishing.
    """
    runtime: WorkerRuntime = ctx["runtime"]
    try:
        request = GenerationRequest.model_validate(payload)
    except ValidationError as exc:
        # Decodable JSON that is not a request is refused like an undecodable one: never run, never retried.
        log.error("job %s: payload is not a request (%d errors); not running it", ctx.get("job_id"),
                  exc.error_count())
        await answer_unreadable(ctx, str(ctx.get("job_id", "")))
        return {"error": "invalid payload"}
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
