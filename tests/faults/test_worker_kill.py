"""SIGKILL of real worker processes mid-job: the job reruns elsewhere, one reply, finalizers (refunds) once.

The workers run the test job (FAULT_FAKE_STEP_S in tests/faults/worker_main.py): a step lasts STEP_S whatever
the machine's load, so a kill lands mid-run, and no model is loaded at start-up.
"""

from __future__ import annotations

import asyncio

from core.context import ChatContext
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest
from tests.faults.conftest import Collector, Procs, finalized, image_request, settled

# Long enough that the kill lands mid-run (each step checks in), short enough to rerun: 4 s.
SLOW_STEPS = 40
STEP_S = 0.1


async def _runner(procs: Procs, job_id: str, job_try: int) -> str:
    """Name of the worker that logged the start of `job_try`."""
    marker = f"job {job_id} try {job_try} started"
    for _ in range(2400):
        for proc in procs.started:
            if marker in proc.log():
                return proc.name
        await asyncio.sleep(0.05)
    raise AssertionError(f"nobody started try {job_try}")


async def test_killed_worker_job_reruns_on_another_worker_once(
    fsettings: Settings, fservice: Reelsmith, procs: Procs, collector: Collector
) -> None:
    # The job timeout stays at its 600 s default: only the short lease can bring the job back in time.
    a, b = procs.worker("a", fsettings, step_s=STEP_S), procs.worker("b", fsettings, step_s=STEP_S)
    await a.wait_log("worker ready")
    await b.wait_log("worker ready")
    request = image_request(steps=SLOW_STEPS)
    assert (await fservice.enqueue(request, ChatContext())).ok  # through the guards: the quota is reserved

    first = await _runner(procs, request.job_id, 1)
    victim = a if first == "a" else b
    survivor = b if victim is a else a
    assert await fservice.queue.load_reply(request.job_id) is None, "the job ended before the kill"
    victim.kill()

    reply = await settled(fservice, request.job_id)
    assert reply.error is None and len(reply.media) == 1
    assert f"job {request.job_id} try 2 started" in survivor.log()
    assert await fservice.queue.state(request.job_id) == "done"
    assert await finalized(fservice) == [request.job_id]
    assert len(collector.replies(request.job_id)) == 1
    # Charged once, across the killed try (its 40 slow steps cost more than the default steps do).
    await _charged(fservice, request, "settled", used=job_cost(request, fsettings))


async def _charged(service: Reelsmith, request: GenerationRequest, state: str, used: int) -> None:
    book = QuotaBook(service.redis, service.settings)
    assert await book.reservation_state(request.job_id) == state
    usage = await book.usage(request.requester.platform, request.requester.user_id)
    assert (usage.used, usage.in_flight) == (used, 0)


async def test_job_whose_workers_keep_dying_gets_a_failure_reply_once(
    fsettings: Settings, fservice: Reelsmith, procs: Procs, collector: Collector
) -> None:
    # max_tries is 2: two killed tries, then a third try only answers.
    workers = [procs.worker(n, fsettings, step_s=STEP_S) for n in ("a", "b", "c")]
    for w in workers:
        await w.wait_log("worker ready")
    request = image_request(steps=SLOW_STEPS * 10)
    assert (await fservice.enqueue(request, ChatContext())).ok
    for job_try in (1, 2):
        name = await _runner(procs, request.job_id, job_try)
        next(w for w in workers if w.name == name).kill()

    reply = await settled(fservice, request.job_id)
    assert reply.error is not None
    assert "failed 2 times" in reply.error and "Nothing was charged" in reply.error
    assert await fservice.queue.state(request.job_id) == "failed"
    assert await finalized(fservice) == [request.job_id]
    assert len(collector.replies(request.job_id)) == 1
    await _charged(fservice, request, "refunded", used=0)  # refunded exactly once
