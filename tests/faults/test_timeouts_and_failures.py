"""Time limits stop the pipeline and free the GPU thread; a job failing every try gets one failure reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.generation.pipeline import GenerationResult, PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest
from tests.conftest import wait_for
from tests.faults.conftest import Collector, image_request, in_process_worker, settled


class FlakyGpu(PipelineSet):
    """The real tiny pipelines on a device that fails every run for these prompts (a driver fault)."""

    def generate(self, request: GenerationRequest, *args: Any, **kwargs: Any) -> GenerationResult:
        if "broken" in request.prompt:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return super().generate(request, *args, **kwargs)


async def _run_worker(settings: Settings, pipelines: PipelineSet) -> AsyncIterator[tuple[Any, list[str]]]:
    w = in_process_worker(settings, pipelines)
    task = asyncio.create_task(w.async_run())
    await wait_for(lambda: asyncio.sleep(0, "runtime" in w.ctx))
    calls: list[str] = []

    async def count(request: GenerationRequest, reply: GenerationReply) -> None:
        calls.append(request.job_id)

    w.ctx["runtime"].finisher.finalizers.append(count)
    yield w, calls
    await w.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


@pytest.fixture
async def timed_worker(fsettings: Settings, pipelines: PipelineSet) -> AsyncIterator[tuple[Any, list[str]]]:
    async for item in _run_worker(fsettings.model_copy(update={"job_timeout_s": 2}), pipelines):
        yield item


@pytest.fixture
async def flaky_worker(fsettings: Settings, pipelines: PipelineSet) -> AsyncIterator[
        tuple[Any, list[str]]]:
    flaky = FlakyGpu(fsettings)
    flaky.share_warm(pipelines)  # the warm tiny weights, shared
    async for item in _run_worker(fsettings, flaky):
        yield item


async def test_job_over_its_time_limit_is_stopped_and_the_gpu_freed(
    fservice: Reelsmith, timed_worker: tuple[Any, list[str]], collector: Collector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker, finalized = timed_worker
    caplog.set_level(logging.INFO, logger="workers.runtime")
    endless = image_request(steps=100_000)  # hours of steps: only the limit can end it
    await fservice.queue.enqueue(endless)
    reply = await settled(fservice, endless.job_id, timeout=60)
    assert reply.error is not None and "limit" in reply.error and "Nothing was charged" in reply.error
    assert await fservice.queue.state(endless.job_id) == "timeout"
    assert f"job {endless.job_id}: pipeline stopped" in caplog.text
    # The single GPU thread is free again: work handed to it now runs at once, not after 100 000 steps.
    runtime = worker.ctx["runtime"]
    loop = asyncio.get_running_loop()
    assert await asyncio.wait_for(loop.run_in_executor(runtime.gpu, lambda: "free"), timeout=30) == "free"
    assert finalized == [endless.job_id]
    assert len(collector.replies(endless.job_id)) == 1


async def test_job_failing_every_try_gets_one_failure_reply_and_one_refund(
    fservice: Reelsmith, flaky_worker: tuple[Any, list[str]], collector: Collector,
) -> None:
    _worker, finalized = flaky_worker
    request = image_request(steps=1).model_copy(update={"prompt": "a broken fox"})
    await fservice.queue.enqueue(request)
    reply = await settled(fservice, request.job_id, timeout=60)
    assert reply.error is not None
    assert "failed 2 times" in reply.error and "RuntimeError" in reply.error and "CUDA" not in reply.error
    assert await fservice.queue.state(request.job_id) == "failed"
    assert finalized == [request.job_id]
    assert len(collector.replies(request.job_id)) == 1
    assert await fservice.queue.depth() == 0
