"""Fencing tokens: a run that lost its lease to a later run never posts, records or charges its late result."""

from __future__ import annotations

import asyncio
import contextvars
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from core.context import ChatContext
from core.queue import fencing
from core.queue.finisher import JobFinisher
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest
from tests.conftest import wait_for
from tests.faults.conftest import Collector, Procs, finalized, image_request, settled


def _reply(request: GenerationRequest, model: str) -> GenerationReply:
    return GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                           prompt=request.prompt, seed=request.seed, model=model, elapsed_s=1.0)


async def _in_run(step: Callable[[], Awaitable[Any]]) -> Any:
    """Run `step` in a context of its own, like arq runs each try in a task of its own."""
    return await asyncio.create_task(step(), context=contextvars.copy_context())


async def _charged(service: Reelsmith, request: GenerationRequest, state: str, used: int) -> None:
    book = QuotaBook(service.redis, service.settings)
    assert await book.reservation_state(request.job_id) == state
    usage = await book.usage(request.requester.platform, request.requester.user_id)
    assert (usage.used, usage.in_flight) == (used, 0)


async def test_a_stale_runs_late_result_is_neither_posted_nor_charged(
    fservice: Reelsmith, fsettings: Settings, collector: Collector
) -> None:
    """Two workers' finishers on one Redis: the run that started first finishes last-but-one and is dropped."""
    request = image_request()
    assert (await fservice.enqueue(request, ChatContext())).ok  # the quota is reserved (held)
    finalizers = fservice.finisher.finalizers
    old_worker = JobFinisher(fservice.redis, fsettings, finalizers)
    new_worker = JobFinisher(fservice.redis, fsettings, finalizers)
    old_token_taken = asyncio.Event()
    new_token_taken = asyncio.Event()
    results: dict[str, bool] = {}

    async def old_run() -> None:
        await old_worker.fence.take(request.job_id)
        old_token_taken.set()
        await new_token_taken.wait()  # cut off: meanwhile its lease passed to a rerun
        results["old"] = await old_worker.finish(request, _reply(request, "old run"), "done")

    async def new_run() -> None:
        await old_token_taken.wait()
        await new_worker.fence.take(request.job_id)
        new_token_taken.set()
        await wait_for(lambda: asyncio.sleep(0, "old" in results), timeout=30)  # the stale one comes back first
        results["new"] = await new_worker.finish(request, _reply(request, "new run"), "done")

    await asyncio.gather(_in_run(old_run), _in_run(new_run))
    assert results == {"old": False, "new": True}
    await wait_for(lambda: asyncio.sleep(0, collector.replies(request.job_id)), timeout=30)
    replies = collector.replies(request.job_id)
    assert [r.model for r in replies] == ["new run"]
    stored = await fservice.queue.load_reply(request.job_id)
    assert stored is not None and stored.model == "new run"
    await _charged(fservice, request, "settled", used=job_cost(request, fsettings))


async def test_unfenced_finish_still_publishes_once(fservice: Reelsmith, collector: Collector) -> None:
    """A bot's finish (a moderator's cancel) holds no token: it publishes, and only once."""
    request = image_request()
    assert fencing.held(request.job_id) is None
    assert await fservice.finisher.finish(request, _reply(request, "cancel"), "cancelled")
    assert await fservice.finisher.finish(request, _reply(request, "again"), "cancelled")
    await wait_for(lambda: asyncio.sleep(0, collector.replies(request.job_id)), timeout=30)
    assert [r.model for r in collector.replies(request.job_id)] == ["cancel"]


async def test_a_stalled_worker_process_is_fenced_off_when_it_wakes(
    fsettings: Settings, fservice: Reelsmith, procs: Procs, collector: Collector
) -> None:
    """Real worker processes: one is frozen (SIGSTOP) mid-job past its lease, the other reruns the job; the
    frozen one wakes (SIGCONT) with its run still going, and whatever finishes first, one reply is posted and
    the job charged once, and the woken run's result is dropped. They run the test job (no model; 40 steps of
    0.1 s, tests/faults/worker_main.py), so the freeze lands mid-run whatever the machine's load."""
    a, b = procs.worker("a", fsettings, step_s=0.1), procs.worker("b", fsettings, step_s=0.1)
    await a.wait_log("worker ready")
    await b.wait_log("worker ready")
    request = image_request(steps=40)
    assert (await fservice.enqueue(request, ChatContext())).ok

    async def first_runner() -> str | None:
        return next((p.name for p in (a, b) if f"job {request.job_id} try 1 started" in p.log()), None)

    first = await wait_for(first_runner, timeout=120, interval=0.02)
    frozen, other = (a, b) if first == "a" else (b, a)
    frozen.popen.send_signal(signal.SIGSTOP)
    try:
        await other.wait_log(f"job {request.job_id} try 2 started", timeout=120)
    finally:
        frozen.popen.send_signal(signal.SIGCONT)
    reply = await settled(fservice, request.job_id)
    await frozen.wait_log("lost its lease to a later run", timeout=120)
    assert reply.error is None and len(reply.media) == 1
    await wait_for(lambda: asyncio.sleep(0, collector.replies(request.job_id)), timeout=30)
    assert len(collector.replies(request.job_id)) == 1
    assert await finalized(fservice) == [request.job_id]
    assert "lost its lease" not in other.log()
    await _charged(fservice, request, "settled", used=job_cost(request, fsettings))
