"""Micro-batching: compatible jobs share a pipeline call, each keeping its own seed and result."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.generation.batch import batch_key
from core.generation.pipeline import Job, PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest, JobKind, Requester
from tests.conftest import wait_for
from workers.batching import Batcher

WHO = Requester(platform="web", user_id="u", chat_id="c")


def _req(seed: int, prompt: str = "a fox", kind: JobKind = JobKind.IMAGE, steps: int = 2) -> GenerationRequest:
    return GenerationRequest(requester=WHO, kind=kind, prompt=prompt, width=64, height=64, seed=seed,
                             steps=steps, num_frames=9 if kind.is_video else 1)


def test_batch_key_groups_only_compatible_requests() -> None:
    assert batch_key(_req(1)) == batch_key(_req(2, "other prompt"))
    assert batch_key(_req(1)) != batch_key(_req(1, steps=3))
    assert batch_key(_req(1)) != batch_key(_req(1, kind=JobKind.VIDEO))
    assert batch_key(_req(1, kind=JobKind.ANIMATE)) is None


def test_batched_results_match_single_runs(pipelines: PipelineSet) -> None:
    reqs = [_req(11, "a red fox"), _req(22, "a blue bird")]
    batched = pipelines.render([Job(r) for r in reqs])
    singles = [pipelines.generate(r, []) for r in reqs]
    for b, s in zip(batched, singles, strict=True):
        diff = np.abs(np.asarray(b.frames[0], dtype=np.int16) - np.asarray(s.frames[0], dtype=np.int16))
        assert diff.mean() < 2.0, diff.mean()  # same seed, same image (float noise aside)
    a, b = (np.asarray(r.frames[0], dtype=np.int16) for r in batched)
    assert np.abs(a - b).mean() > 5  # different seeds really differ
    assert batched[0].batch_size == 2


def test_batched_video(pipelines: PipelineSet) -> None:
    reqs = [_req(1, kind=JobKind.VIDEO), _req(2, kind=JobKind.VIDEO)]
    out = pipelines.render([Job(r) for r in reqs])
    assert [len(r.frames) for r in out] == [9, 9]


async def test_batcher_groups_jobs_that_wait_while_busy() -> None:
    calls: list[list[int]] = []
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()

    def run(_p: Any, jobs: list[Job]) -> list[Any]:
        calls.append([j.request.seed for j in jobs])
        if len(calls) == 1:
            asyncio.run_coroutine_threadsafe(_wait(gate), loop).result()
        return [j.request.seed for j in jobs]

    with ThreadPoolExecutor(max_workers=1) as pool:
        batcher = Batcher(None, pool, max_batch=3, window_s=0.0, run=run)  # type: ignore[arg-type]
        first = asyncio.create_task(batcher.submit(_req(1), [], None))
        await wait_for(lambda: _true(len(calls) == 1))
        rest = [asyncio.create_task(batcher.submit(_req(s), [], None)) for s in (2, 3, 4, 5)]
        odd = asyncio.create_task(batcher.submit(_req(6, kind=JobKind.ANIMATE), [], None))
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(first, *rest, odd)
    assert results == [1, 2, 3, 4, 5, 6]  # each job gets its own result
    assert calls[0] == [1]
    assert calls[1] == [2, 3, 4]  # up to max_batch compatible jobs that queued meanwhile
    assert sorted(map(tuple, calls[2:])) == [(5,), (6,)]
    assert batcher.batches == [1, 3, 1, 1]


async def test_batcher_window_collects_jobs_arriving_soon() -> None:
    calls: list[list[int]] = []

    def run(_p: Any, jobs: list[Job]) -> list[Any]:
        calls.append([j.request.seed for j in jobs])
        return [j.request.seed for j in jobs]

    with ThreadPoolExecutor(max_workers=1) as pool:
        batcher = Batcher(None, pool, max_batch=4, window_s=5.0, run=run)  # type: ignore[arg-type]
        tasks = [asyncio.create_task(batcher.submit(_req(s), [], None)) for s in (1, 2, 3, 4)]
        assert await asyncio.gather(*tasks) == [1, 2, 3, 4]
    assert calls == [[1, 2, 3, 4]]  # a full batch starts without waiting out the window


async def test_a_failing_batch_member_does_not_fail_the_others() -> None:
    def run(_p: Any, jobs: list[Job]) -> list[Any]:
        if any(j.request.prompt == "boom" for j in jobs):
            raise RuntimeError("boom")
        return [j.request.seed for j in jobs]

    with ThreadPoolExecutor(max_workers=1) as pool:
        batcher = Batcher(None, pool, max_batch=4, window_s=1.0, run=run)  # type: ignore[arg-type]
        ok = asyncio.create_task(batcher.submit(_req(1), [], None))
        bad = asyncio.create_task(batcher.submit(_req(2, "boom"), [], None))
        ok2 = asyncio.create_task(batcher.submit(_req(3), [], None))
        results = await asyncio.gather(ok, bad, ok2, return_exceptions=True)
    assert results[0] == 1 and results[2] == 3 and isinstance(results[1], RuntimeError)


async def test_worker_batches_concurrent_jobs_end_to_end(service: Reelsmith, worker: Any) -> None:
    runtime = await wait_for(lambda: _get(worker.ctx, "runtime"))
    outcomes = [await service.handle(Requester(platform="web", user_id=f"u{i}", chat_id="c"),
                                     f"/imagine fox number {i} --seed {100 + i}") for i in range(6)]
    ids = [o.job_id for o in outcomes]
    replies = [await wait_for(lambda j=j: service.queue.load_reply(j), timeout=60) for j in ids]
    assert all(r.error is None for r in replies)
    assert [r.seed for r in replies] == [100 + i for i in range(6)]
    assert len({r.media[0].blob_key for r in replies}) == 6
    assert sum(runtime.batcher.batches) == 6
    assert len(runtime.pickup_latency_s) == 6


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


async def _get(d: dict[str, Any], key: str) -> Any:
    return d.get(key)


async def _true(value: bool) -> bool:
    return value


def test_memory_options_are_applied(tiny_dir: Any) -> None:
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, vae_tiling=True, vae_slicing=True))
    pipe = ps.get(JobKind.IMAGE)
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    assert ps.applied_options["vae_tiling"] is True
