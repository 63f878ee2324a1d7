"""Redis operations per job, measured: INFO commandstats deltas over N jobs, and the ceiling they imply.

    .venv/bin/python bench/redis_ops.py [--jobs 100] [--steps 4]

An embedded Redis, the service (guards, quota reservation, fair queue) as a bot uses it, a real in-process
worker with the tiny models, and a reply consumer that acknowledges each reply like an adapter does. After
warm-up the stats are reset, N image jobs are submitted and answered, and the deltas are printed per job:
commands by name, Redis CPU microseconds, and the worker's idle polling measured over a quiet window (it
scales with time and workers, not jobs). Then `redis-benchmark` measures this machine's Redis throughput
for the same kinds of command, and the ceiling in jobs/s is printed both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr  # noqa: E402

from core.context import ChatContext  # noqa: E402
from core.generation.pipeline import PipelineSet  # noqa: E402
from core.generation.tiny_models import build_tiny_models  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.queue.replies import Event, ReplyConsumer  # noqa: E402
from core.service.features import build_service  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402
from workers.settings import build_worker  # noqa: E402

IDLE_WINDOW_S = 10.0


async def commandstats(redis: object) -> dict[str, tuple[int, int]]:
    """Command -> (calls, usec) since the last CONFIG RESETSTAT."""
    info = await redis.info("commandstats")  # type: ignore[attr-defined]
    return {k.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"])) for k, v in info.items()}


async def run(jobs: int, steps: int) -> tuple[Counter[str], int, Counter[str], float, int]:
    tmp = Path(tempfile.mkdtemp(prefix="redis-ops-"))
    server = EmbeddedRedis(tmp / "redis").start()
    tiny = build_tiny_models(tmp / "tiny")
    settings = Settings(_env_file=None, redis_url=SecretStr(server.url), data_dir=tmp / "data", tiny_models_dir=tiny,
                        quota_credits=100_000, quota_max_in_flight=jobs + 10)
    pipes = PipelineSet(settings)
    pipes.warm_up()
    redis = await connect(settings)
    service = build_service(settings, redis)
    worker = build_worker(settings, warm=False, pipelines=pipes, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run())
    answered: set[str] = set()

    async def post(event: Event) -> None:
        if event.reply is not None:
            answered.add(event.reply.job_id)

    consumer = ReplyConsumer(redis, settings, "web", "bench")
    reader = asyncio.create_task(consumer.run(post))
    members = [Requester(platform="web", user_id=f"m{i}", chat_id=f"c{i}") for i in range(10)]

    async def batch(n: int, seed0: int) -> None:
        ids = []
        for i in range(n):
            request = GenerationRequest(requester=members[i % len(members)], kind=JobKind.IMAGE,
                                        prompt="a red fox in the snow", width=64, height=64, seed=seed0 + i,
                                        steps=steps)
            assert (await service.enqueue(request, ChatContext())).ok
            ids.append(request.job_id)
        while not set(ids) <= answered:
            await asyncio.sleep(0.05)

    try:
        await batch(5, 0)  # warm-up: scripts loaded, groups made, connections open
        await asyncio.sleep(1.0)
        await redis.config_resetstat()
        t0 = time.perf_counter()
        await batch(jobs, 1000)
        await asyncio.sleep(1.5)  # finalizers, acks and arq's bookkeeping of the last job
        elapsed = time.perf_counter() - t0
        busy = await commandstats(redis)
        await redis.config_resetstat()
        await asyncio.sleep(IDLE_WINDOW_S)
        idle = await commandstats(redis)
    finally:
        reader.cancel()
        await worker.close()
        worker_task.cancel()
        with contextlib.suppress(BaseException):
            await worker_task
        await redis.aclose()
        port = server.port
    calls = Counter({k: c for k, (c, _u) in busy.items() if k not in ("info", "config|resetstat")})
    usec = sum(u for k, (_c, u) in busy.items() if k in calls)
    idle_calls = Counter({k: c for k, (c, _u) in idle.items() if k not in ("info", "config|resetstat")})
    bench = redis_benchmark(server)
    server.stop()
    print(f"port {port}: {bench}", file=sys.stderr)
    return calls, usec, idle_calls, elapsed, bench


def redis_benchmark(server: EmbeddedRedis) -> int:
    """Requests/s of redis-benchmark over the kinds of command a job uses (50 clients, no pipelining):
    the mean of SET, HSET, ZADD, a short EVAL and XADD, this machine, now."""
    rates = []
    base = ["redis-benchmark", "-p", str(server.port), "-q", "-n", "50000", "-c", "50"]
    for extra in (["-t", "set,hset,zadd"], ["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v"],
                  ["XADD", "bench-stream", "MAXLEN", "~", "1000", "*", "f", "v"]):
        out = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=300).stdout
        rates += [float(m) for m in re.findall(r"([\d.]+) requests per second", out)]
    return int(sum(rates) / len(rates))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    calls, usec, idle, elapsed, bench = asyncio.run(run(args.jobs, args.steps))
    n = args.jobs
    total = sum(calls.values())
    idle_per_s = sum(idle.values()) / IDLE_WINDOW_S
    idle_share = idle_per_s * elapsed
    per_job = (total - idle_share) / n
    print(f"Redis operations per job: {args.jobs} image jobs, {args.steps} steps, 64 px, one worker, "
          f"{elapsed:.1f} s\n")
    print("| command | calls per job |\n| --- | --- |")
    for name, c in calls.most_common():
        if c / n >= 0.05:
            print(f"| {name} | {c / n:.2f} |")
    print(f"\n- all commands: {total / n:.1f} per job (of which idle polling and heartbeats over the run: "
          f"{idle_share / n:.1f}); **{per_job:.1f} per job** without them")
    top = ", ".join(f"{k} {v}" for k, v in idle.most_common(4))
    print(f"- idle: {idle_per_s:.1f} commands/s for one idle worker ({top} in {IDLE_WINDOW_S:.0f} s)")
    print(f"- Redis CPU inside commands: {usec / n:.0f} us per job -> at most {1e6 / (usec / n):.0f} jobs/s "
          "on one Redis core before network I/O")
    print(f"- redis-benchmark, same kinds of command, 50 clients: {bench} requests/s -> "
          f"**{bench / per_job:.0f} jobs/s** ceiling at {per_job:.1f} commands per job")


if __name__ == "__main__":
    main()
