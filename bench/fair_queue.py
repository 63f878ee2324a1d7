"""Mean wait of a light user while a heavy user floods the queue, with and without fair queueing.

One real arq worker (one job at a time, like one GPU) runs a stub job that
burns a fixed amount of CPU. The heavy user queues HEAVY jobs at once; the light user then queues one
job every LIGHT_EVERY_S. Printed: the light user's mean wait (enqueue -> start) under arrival order
(FIFO, stock arq scoring) and under fair queueing (core/queue/fairness.py), and their ratio.

Relax scenario: the same heavy and light users on Reelsmith's own worker class (its relax-lane rule: a relax
job starts only while the worker runs nothing and no other job waits), once alone and once with RELAX_FLOOD
relax-lane jobs (one per member, as the lane allows) queued before them; the light user keeps coming for
RELAX_LIGHT jobs, so after the heavy backlog the relax jobs fill the gaps between theirs. Printed: both
normal users' mean waits (the light user's worst too) without and with the flood, how many relax jobs ran
before the last normal one, and how many normal jobs arrived while a relax job was being started (it is
not preempted: they wait for that one job).

    .venv/bin/python bench/fair_queue.py
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq.worker import Worker, func  # noqa: E402

from core.queue import job_codec  # noqa: E402
from core.queue.connection import connect, redis_settings  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.queue.fairness import RELAX_TIER  # noqa: E402
from core.queue.jobs import JOB_FUNCTION, JobQueue  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from workers.settings import ReelsmithWorker  # noqa: E402

JOB_S = 0.03  # CPU time per job
HEAVY = 60
LIGHT = 8
LIGHT_EVERY_S = 0.15
RELAX_FLOOD = 40
RELAX_LIGHT = 40  # light jobs in the relax scenario: they outlast the heavy backlog


def _burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _request(user: str, n: int) -> GenerationRequest:
    return GenerationRequest(requester=Requester(platform="bench", user_id=user, chat_id="room"),
                             kind=JobKind.IMAGE, prompt=f"{user} {n}", width=64, height=64, seed=n, steps=1)


async def run(redis_url: str, fair: bool, tag: str) -> tuple[float, float]:
    settings = Settings(_env_file=None, redis_url=redis_url, key_prefix=f"bench{tag}",
                        queue_name=f"bench{tag}:queue", fair_queueing=fair)
    redis = await connect(settings)
    queue = JobQueue(redis, settings)
    started: dict[str, float] = {}

    async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
        started[payload["job_id"]] = time.perf_counter()
        await asyncio.to_thread(_burn, JOB_S)

    worker = Worker(functions=[func(generate, name=JOB_FUNCTION)], queue_name=settings.queue_name,
                        redis_settings=redis_settings(settings), max_jobs=1, poll_delay=0.005,
                        handle_signals=False, burst=True,
                        job_serializer=job_codec.dumps, job_deserializer=job_codec.loads)
    queued: dict[str, float] = {}
    heavy_ids: list[str] = []
    for i in range(HEAVY):
        r = _request("heavy", i)
        queued[r.job_id] = time.perf_counter()
        heavy_ids.append(r.job_id)
        await queue.enqueue(r)
    task = asyncio.create_task(worker.async_run())
    light_ids = []
    for i in range(LIGHT):
        await asyncio.sleep(LIGHT_EVERY_S)
        r = _request("light", i)
        queued[r.job_id] = time.perf_counter()
        light_ids.append(r.job_id)
        await queue.enqueue(r)
    await task  # burst mode: returns once the queue is empty
    await worker.close()
    await redis.aclose()
    light = statistics.mean(started[j] - queued[j] for j in light_ids)
    heavy = statistics.mean(started[j] - queued[j] for j in heavy_ids)
    return light, heavy


async def run_relax(redis_url: str, flood: bool, tag: str) -> dict[str, float]:
    """Normal users' waits on Reelsmith's worker, with or without a relax flood queued first."""
    settings = Settings(_env_file=None, redis_url=redis_url, key_prefix=f"bench{tag}",
                        queue_name=f"bench{tag}:queue", poll_delay_s=0.005)
    redis = await connect(settings)
    queue = JobQueue(redis, settings)
    started: dict[str, float] = {}

    async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
        started[payload["job_id"]] = time.perf_counter()
        await asyncio.to_thread(_burn, JOB_S)

    worker = ReelsmithWorker(settings=settings, functions=[func(generate, name=JOB_FUNCTION)],
                             queue_name=settings.queue_name, redis_settings=redis_settings(settings), max_jobs=1,
                             poll_delay=0.005, idle_poll_s=0.005, lease_s=30, handle_signals=False)
    queued: dict[str, float] = {}
    listed: dict[str, float] = {}  # when enqueue returned: the job is on the queue from then on
    relax_ids: list[str] = []
    for i in range(RELAX_FLOOD if flood else 0):
        r = _request(f"relax{i}", i)
        r.tier, r.priority = RELAX_TIER, settings.relax_weight
        queued[r.job_id] = time.perf_counter()
        relax_ids.append(r.job_id)
        await queue.enqueue(r)
        listed[r.job_id] = time.perf_counter()
    heavy_ids: list[str] = []
    for i in range(HEAVY):
        r = _request("heavy", i)
        queued[r.job_id] = time.perf_counter()
        heavy_ids.append(r.job_id)
        await queue.enqueue(r)
        listed[r.job_id] = time.perf_counter()
    task = asyncio.create_task(worker.async_run())
    light_ids = []
    for i in range(RELAX_LIGHT):
        await asyncio.sleep(LIGHT_EVERY_S)
        r = _request("light", i)
        queued[r.job_id] = time.perf_counter()
        light_ids.append(r.job_id)
        await queue.enqueue(r)
        listed[r.job_id] = time.perf_counter()
    # Not burst mode: the queue may run empty between two light jobs once the backlog is gone.
    while len(started) < len(queued):
        await asyncio.sleep(0.01)
    await worker.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await redis.aclose()
    normal = light_ids + heavy_ids
    last_normal = max(started[j] for j in normal)
    light_waits = [started[j] - queued[j] for j in light_ids]
    return {
        "light": statistics.mean(light_waits), "light_max": max(light_waits),
        "heavy": statistics.mean(started[j] - queued[j] for j in heavy_ids),
        "relax_early": sum(started[j] < last_normal for j in relax_ids),
        "relax_over_waiting": sum(any(listed[n] < started[j] < started[n] for n in normal) for j in relax_ids),
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), appendonly=False).start()
        try:
            fifo_light, fifo_heavy = await run(server.url, fair=False, tag="fifo")
            fair_light, fair_heavy = await run(server.url, fair=True, tag="fair")
            calm = await run_relax(server.url, flood=False, tag="calm")
            flood = await run_relax(server.url, flood=True, tag="flood")
        finally:
            with contextlib.suppress(Exception):
                server.stop()
    print(f"{HEAVY} heavy jobs queued at once, {LIGHT} light jobs every {LIGHT_EVERY_S}s, {JOB_S}s CPU per job, "
          "one worker slot")
    print(f"light user's mean wait: FIFO {fifo_light:.3f}s, fair {fair_light:.3f}s "
          f"-> FIFO/fair = {fifo_light / fair_light:.1f}x")
    print(f"heavy user's mean wait: FIFO {fifo_heavy:.3f}s, fair {fair_heavy:.3f}s "
          f"-> fair/FIFO = {fair_heavy / fifo_heavy:.2f}x")

    print(f"relax lane: {RELAX_FLOOD} relax jobs queued first, then the heavy user's {HEAVY} and {RELAX_LIGHT} light "
          f"jobs every {LIGHT_EVERY_S}s; Reelsmith's worker, one slot")
    for who in ("light", "heavy"):
        print(f"{who} user's mean wait: without {calm[who]:.3f}s, with the flood {flood[who]:.3f}s "
              f"-> with/without = {flood[who] / calm[who]:.2f}x")
    print(f"light user's worst wait: without {calm['light_max']:.3f}s, with the flood {flood['light_max']:.3f}s "
          f"(one job is {JOB_S}s)")
    print(f"relax jobs run before the last normal job (in idle gaps): {flood['relax_early']:.0f} of {RELAX_FLOOD}; "
          f"normal jobs that arrived while one was being started (they waited for that one job): "
          f"{flood['relax_over_waiting']:.0f}")

if __name__ == "__main__":
    asyncio.run(main())
