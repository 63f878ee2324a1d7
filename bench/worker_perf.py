"""Worker performance on this machine, with the tiny models on CPU. Prints ratios measured in one run.

    .venv/bin/python bench/worker_perf.py [--quick]

1. service overhead: end-to-end (command in over HTTP -> reply posted in the chat) / bare pipeline call
2. throughput with micro-batching vs one job at a time (jobs per minute ratio)
3. enqueue-to-start latency, median and p95, on an idle worker (wake-up vs plain 0.5 s arq polling)
4. worker RSS after 500 jobs vs after 10
5. overlap: N image jobs back to back; how much of the post-render work (labels, encode, store) runs while
   the accelerator thread renders the next job (one job per render), vs one job at a time
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bots.web.app import WebPlayground  # noqa: E402
from core.generation.pipeline import PipelineSet  # noqa: E402
from core.generation.tiny_models import build_tiny_models  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.service.facade import Reelsmith  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import Requester  # noqa: E402
from workers.settings import build_worker  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Stack:
    """Embedded Redis + in-process worker (+ playground) for one configuration."""

    def __init__(self, base: Settings, pipelines: PipelineSet, n: int, **overrides: Any) -> None:
        self.settings = base.model_copy(update={"key_prefix": f"b{n}", "queue_name": f"b{n}:queue", **overrides})
        self.pipelines = pipelines

    async def __aenter__(self) -> Stack:
        self.redis = await connect(self.settings)
        self.service = Reelsmith(self.settings, self.redis)
        self.worker = build_worker(self.settings, warm=False, pipelines=self.pipelines, handle_signals=False)
        self.task = asyncio.create_task(self.worker.async_run())
        while "runtime" not in self.worker.ctx:
            await asyncio.sleep(0.01)
        self.runtime = self.worker.ctx["runtime"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.close()
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
        await self.redis.aclose()

    async def wait_reply(self, job_id: str, poll_s: float = 0.002) -> Any:
        while (reply := await self.service.queue.load_reply(job_id)) is None:
            await asyncio.sleep(poll_s)
        return reply


async def bench_overhead(base: Settings, pipes: PipelineSet, n: int, size: int, steps: int) -> None:
    cmd = f"/imagine a red fox in the snow --steps {steps}"
    who = Requester(platform="web", user_id="u", chat_id="c")
    async with Stack(base, pipes, 1, image_base_size=size) as st:
        request = st.service.build_request(st.service.parse(cmd), who, [], seed=1)
        loop = asyncio.get_running_loop()
        playground = WebPlayground(st.service)
        playground.consumer.block_ms = 5
        client = TestClient(TestServer(playground.build_app(), host="127.0.0.1"),
                            headers=playground.access.bearer_header())
        await client.start_server()
        bare: list[float] = []
        e2e: list[float] = []
        try:
            # Alternate the two measurements so background load drifts affect both alike; the bare call
            # runs on the worker's own accelerator thread, as jobs do.
            for i in range(n + 1):
                t = time.perf_counter()
                await loop.run_in_executor(st.runtime.gpu, pipes.generate, request, [])
                if i:
                    bare.append(time.perf_counter() - t)
                t = time.perf_counter()
                resp = await client.post("/api/command", json={"chat": "bench", "text": cmd + f" --seed {i}"})
                job_id = (await resp.json())["job_id"]
                msg_id = await st.redis.get(playground._job_key(job_id))
                # Poll gently: on 2 cores a tight polling loop steals CPU from the very render it waits for.
                poll_s = max(0.002, (statistics.median(bare) if bare else 0.05) / 200)
                while not ((m := await playground._load(msg_id.decode())) and m.get("done")):
                    await asyncio.sleep(poll_s)
                if i:  # the first round warms both paths
                    e2e.append(time.perf_counter() - t)
        finally:
            await client.close()
    b, e = statistics.median(bare), statistics.median(e2e)
    print(f"1. service overhead at {size}px/{steps} steps: bare pipeline {b * 1000:.1f} ms, end-to-end "
          f"{e * 1000:.1f} ms (median of {n}); ratio {e / b:.3f}")


async def bench_throughput(base: Settings, pipes: PipelineSet, jobs: int) -> None:
    rates = {}
    for label, batch in (("one at a time", 1), ("micro-batched", 4)):
        async with Stack(base, pipes, 2 + batch, batch_max_size=batch, worker_max_jobs=max(4, batch)) as st:
            who = Requester(platform="web", user_id="u", chat_id="c")
            t = time.perf_counter()
            ids = [(await st.service.handle(who, f"/imagine fox {i} --seed {i}")).job_id for i in range(jobs)]
            for job_id in ids:
                await st.wait_reply(job_id or "", 0.005)
            elapsed = time.perf_counter() - t
            rates[label] = jobs / elapsed * 60
            sizes = st.runtime.batcher.batches
            print(f"2. {label}: {jobs} jobs in {elapsed:.2f} s = {rates[label]:.0f} jobs/min "
                  f"(mean batch {statistics.mean(sizes):.2f})")
    print(f"2. throughput ratio micro-batched / one at a time: {rates['micro-batched'] / rates['one at a time']:.2f}")


async def bench_latency(base: Settings, pipes: PipelineSet, n: int) -> None:
    for label, wake, poll in (("wake-up (default)", True, 1.0), ("arq polling 0.5 s", False, 0.5)):
        async with Stack(base, pipes, 10 + int(wake), poll_delay_s=poll) as st:
            if not wake:  # stop publishing wake-ups: plain polling
                async def no_wake() -> None:
                    return None
                st.service.queue.wake_workers = no_wake  # type: ignore[method-assign]
            who = Requester(platform="web", user_id="u", chat_id="c")
            await asyncio.sleep(0.3)
            for i in range(n):
                out = await st.service.handle(who, f"/imagine fox --seed {i} --steps 1")
                await st.wait_reply(out.job_id or "")
                await asyncio.sleep(0.01)  # idle again
            lat = sorted(st.runtime.pickup_latency_s)
            p95 = lat[int(len(lat) * 0.95) - 1]
            print(f"3. enqueue-to-start, {label}: median {statistics.median(lat) * 1000:.1f} ms, "
                  f"p95 {p95 * 1000:.1f} ms over {len(lat)} jobs; idle polls/s ~{1 / poll:.1f}")


async def bench_rss(base: Settings, pipes: PipelineSet, total: int) -> None:
    async with Stack(base, pipes, 20, blob_ttl_s=30, result_ttl_s=30) as st:
        who = Requester(platform="web", user_id="u", chat_id="c")
        marks = {}
        done = 0
        while done < total:
            chunk = min(10, total - done)
            ids = [(await st.service.handle(who, f"/imagine fox --seed {done + i} --steps 1")).job_id
                   for i in range(chunk)]
            for job_id in ids:
                await st.wait_reply(job_id or "", 0.005)
            done += chunk
            if done in (10, total):
                marks[done] = rss_mb()
    growth = marks[total] / marks[10] - 1
    print(f"4. worker RSS after 10 jobs {marks[10]:.0f} MB, after {total} jobs {marks[total]:.0f} MB: "
          f"growth {growth * 100:+.1f}%")


def _overlapped(post: tuple[float, float], renders: list[tuple[float, float]]) -> float:
    """Seconds of the interval `post` during which some render interval ran (renders never overlap each other:
    one accelerator thread)."""
    a, b = post
    return sum(max(0.0, min(b, d) - max(a, c)) for c, d in renders)


async def _overlap_run(base: Settings, pipes: PipelineSet, max_jobs: int, jobs: int, size: int,
                       steps: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Render intervals (accelerator thread) and post-render intervals (labels, encode, sign, store) of `jobs`
    jobs queued at once, after one warm-up job; one job per render (no batching) so each render is one job's."""
    renders: list[tuple[float, float]] = []
    posts: list[tuple[float, float]] = []
    async with Stack(base, pipes, 30 + max_jobs, image_base_size=size, batch_max_size=1,
                     worker_max_jobs=max_jobs) as st:
        generate, store = pipes.generate, st.runtime._encode_and_store

        def timed_generate(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return generate(*args, **kwargs)
            finally:
                renders.append((t, time.perf_counter()))

        async def timed_store(*args: Any) -> Any:
            t = time.perf_counter()
            try:
                return await store(*args)
            finally:
                posts.append((t, time.perf_counter()))

        pipes.generate = timed_generate  # type: ignore[method-assign]
        st.runtime._encode_and_store = timed_store
        try:
            who = Requester(platform="web", user_id="u", chat_id="c")
            warm = await st.service.handle(who, f"/imagine warm-up --steps {steps} --seed 998")  # first calls
            await st.wait_reply(warm.job_id or "", 0.01)
            renders.clear()
            posts.clear()
            ids = [(await st.service.handle(who, f"/imagine fox {i} --steps {steps} --seed {i}")).job_id
                   for i in range(jobs)]
            for job_id in ids:
                await st.wait_reply(job_id or "", 0.01)
        finally:
            del pipes.generate
    return renders, posts


async def bench_overlap(base: Settings, pipes: PipelineSet, jobs: int, size: int, steps: int) -> None:
    """How much post-render time is hidden behind the next job's render: worker_max_jobs 1 vs the default 4."""
    for label, max_jobs in (("one job at a time", 1), ("default (4 jobs held)", 4)):
        renders, posts = await _overlap_run(base, pipes, max_jobs, jobs, size, steps)
        render_s = sum(d - c for c, d in renders)
        post_s = sum(b - a for a, b in posts)
        wall = max(b for _, b in posts) - min(c for c, _ in renders)
        hidden = sum(_overlapped(p, renders) for p in posts)
        print(f"5. overlap, {label}, {jobs} jobs at {size}px/{steps} steps: wall {wall:.2f} s; renders "
              f"{render_s:.2f} s + post-render {post_s:.2f} s = {render_s + post_s:.2f} s; post-render beside "
              f"a render: {hidden:.2f} s = {hidden / post_s * 100:.0f}%; wall / sum = "
              f"{wall / (render_s + post_s):.3f}; accelerator busy {render_s / wall * 100:.0f}% of the wall")

async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", choices=["overhead", "throughput", "latency", "rss", "overlap"], help="run one part")
    args = parser.parse_args()
    q = args.quick
    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_models(Path(tmp) / "tiny")
        server = EmbeddedRedis(Path(tmp) / "redis", appendonly=False).start()
        try:
            base = Settings(_env_file=None, redis_url=server.url, tiny_models_dir=tiny, data_dir=Path(tmp),
                            progress_min_interval_s=0.25)
            pipes = PipelineSet(base)
            pipes.warm_up()
            part = args.only
            if part in (None, "overhead"):
                await bench_overhead(base, pipes, 5 if q else 15, 64, 2)
                await bench_overhead(base, pipes, 3 if q else 8, 256, 8)
            if part in (None, "throughput"):
                await bench_throughput(base, pipes, 16 if q else 48)
            if part in (None, "latency"):
                await bench_latency(base, pipes, 20 if q else 60)
            if part in (None, "rss"):
                await bench_rss(base, pipes, 100 if q else 500)
            if part in (None, "overlap"):
                await bench_overlap(base, pipes, 6 if q else 12, 256 if q else 512, 1 if q else 2)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
