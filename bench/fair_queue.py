"""Mean wait of a light user while a heavy user floods the queue, with and without fair queueing.

One real arq worker (one job at a time, like one GPU) runs a stub job that
burns a fixed amount of CPU. The heavy user queues HEAVY jobs at once; the light user then queues one
job every LIGHT_EVERY_S. Printed: the light user's mean wait (enqueue -> start) under arrival order
(FIFO, stock arq scoring) and under fair queueing (core/queue/fairness.py), and their ratio.

Relax scenario: the same heavy and light users on Reelsmith's own worker class (its relax-lane rule: a relax
job starts only while the worker runs nothing and no other job waits), once alone and once with RELAX_FLOOD
relax-lane jobs (one per member, as the lane allows) queued before them. Printed: both normal users' mean
waits without and with the flood, and when the relax jobs ran.

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
from core.queue.fairness import RELAX_TIER  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.queue.jobs import JOB_FUNCTION, JobQueue  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from workers.settings import ReelsmithWorker  # noqa: E402

JOB_S = 0.03  # CPU time per job
HEAVY = 60
LIGHT = 8
LIGHT_EVERY_S = 0.15
RELAX_FLOOD = 40


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


async def run_relax(redis_url: str, flood: bool, tag: str) -> tuple[float, float, float]:
    """Light and heavy users' mean waits on Reelsmith's worker, with or without a relax flood queued first;
    and the mean time from the last normal job's start to each relax job's start (0 without a flood)."""
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
                             poll_delay=0.005, idle_poll_s=0.005, lease_s=30, handle_signals=False, burst=True)
    queued: dict[str, float] = {}
    relax_ids: list[str] = []
    for i in range(RELAX_FLOOD if flood else 0):
        r = _request(f"relax{i}", i)
        r.tier, r.priority = RELAX_TIER, settings.relax_weight
        queued[r.job_id] = time.perf_counter()
        relax_ids.append(r.job_id)
        await queue.enqueue(r)
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
    await task
    await worker.close()
    await redis.aclose()
    light = statistics.mean(started[j] - queued[j] for j in light_ids)
    heavy = statistics.mean(started[j] - queued[j] for j in heavy_ids)
    last_normal = max(started[j] for j in light_ids + heavy_ids)
    after = [started[j] - last_normal for j in relax_ids]
    early = sum(a < 0 for a in after)
    if early:
        print(f"note: {early} relax job(s) started before the last normal job (while nothing else waited)")
    return light, heavy, statistics.mean(after) if after else 0.0


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), appendonly=False).start()
        try:
            fifo_light, fifo_heavy = await run(server.url, fair=False, tag="fifo")
            fair_light, fair_heavy = await run(server.url, fair=True, tag="fair")
            calm_light, calm_heavy, _ = await run_relax(server.url, flood=False, tag="calm")
            flood_light, flood_heavy, relax_after = await run_relax(server.url, flood=True, tag="flood")
        finally:
            with contextlib.suppress(Exception):
                server.stop()
    print(f"{HEAVY} heavy jobs queued at once, {LIGHT} light jobs every {LIGHT_EVERY_S}s, {JOB_S}s CPU per job, "
          "one worker slot")
    print(f"light user's mean wait: FIFO {fifo_light:.3f}s, fair {fair_light:.3f}s "
          f"-> FIFO/fair = {fifo_light / fair_light:.1f}x")
    print(f"heavy user's mean wait: FIFO {fifo_heavy:.3f}s, fair {fair_heavy:.3f}s "
          f"-> fair/FIFO = {fair_heavy / fifo_heavy:.2f}x")

    print(f"relax lane: {RELAX_FLOOD} relax jobs queued before the same load, Reelsmith's worker, one slot")
    print(f"light user's mean wait: without {calm_light:.3f}s, with the flood {flood_light:.3f}s "
          f"-> with/without = {flood_light / calm_light:.2f}x")
    print(f"heavy user's mean wait: without {calm_heavy:.3f}s, with the flood {flood_heavy:.3f}s "
          f"-> with/without = {flood_heavy / calm_heavy:.2f}x")
    print(f"relax jobs started on average {relax_after:.3f}s after the last normal job started")


if __name__ == "__main__":
    asyncio.run(main())
