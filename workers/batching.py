"""Micro-batching: jobs that arrive while the accelerator is busy (or within a short window) and share a
model, size and step count run as one batched pipeline call.

arq runs up to `worker_max_jobs` jobs of a worker concurrently; each hands its request to the Batcher
and awaits its own result. One dispatcher feeds the single GPU thread, so batches form naturally
under load and an idle worker waits at most `batch_window_s` before starting a lone job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from PIL import Image

from core.generation.batch import batch_key
from core.generation.pipeline import GenerationCancelled, GenerationResult, Job, PipelineSet, ProgressFn, StopFn
from core.i18n import locale_of, run_in_locale
from core.types import GenerationRequest

log = logging.getLogger(__name__)

# Runs a batch of compatible jobs on the accelerator thread, one result per job in order.
RunFn = Callable[[PipelineSet, list[Job]], list[GenerationResult]]


def run_batch(pipelines: PipelineSet, jobs: list[Job]) -> list[GenerationResult]:
    """The batcher's run: several jobs as one `render` call; a lone job through `generate`, which stand-ins
    and subclasses of PipelineSet override."""
    if len(jobs) == 1:
        job = jobs[0]
        return [pipelines.generate(job.request, job.images, job.progress, should_stop=job.should_stop)]
    return pipelines.render(jobs)


@dataclass
class _Item:
    job: Job
    future: asyncio.Future[GenerationResult] = field(repr=False)

    @property
    def request(self) -> GenerationRequest:
        return self.job.request


class Batcher:
    """Groups compatible requests and runs them on one executor thread, one batch at a time."""

    def __init__(self, pipelines: PipelineSet, executor: Executor, max_batch: int, window_s: float,
                 run: RunFn = run_batch) -> None:
        self.pipelines = pipelines
        self.executor = executor
        self.max_batch = max(1, max_batch)
        self.window_s = window_s
        self._run = run
        self._pending: list[_Item] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches: list[int] = []  # sizes of the batches run, for metrics and tests

    async def submit(self, request: GenerationRequest, images: list[Image.Image],
                     progress: ProgressFn | None, should_stop: StopFn | None = None) -> GenerationResult:
        """Queue a request for the accelerator and wait for its own result.

        `should_stop` (checked from the accelerator thread) cancels the request: before it starts it
        is dropped; inside a batch the batch stops only when all its members want to.
        """
        loop = asyncio.get_running_loop()
        item = _Item(Job(request, images, progress=progress, should_stop=should_stop), loop.create_future())
        self._pending.append(item)
        self._arrived.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._dispatch())
        try:
            return await item.future
        except asyncio.CancelledError:
            # A cancelled job (timeout, moderator) must not run later as part of a batch.
            with contextlib.suppress(ValueError):
                self._pending.remove(item)
            raise

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = await self._collect()
            if not batch:
                continue
            self.batches.append(len(batch))
            try:
                # A job alone runs in its member's locale (its GenerationError is theirs); a failed batch is rerun
                # job by job below, each in its own.
                locale = locale_of(batch[0].request) if len(batch) == 1 else ""
                results = await loop.run_in_executor(self.executor, run_in_locale, locale, self._run, self.pipelines,
                                                     [i.job for i in batch])
            except Exception as exc:
                if len(batch) == 1 or isinstance(exc, GenerationCancelled):
                    for item in batch:
                        _resolve(item, exc=exc)
                    continue
                # One bad member must not fail the others: rerun them one by one.
                log.warning("batch of %d failed (%s); running its jobs alone", len(batch), type(exc).__name__)
                for item in batch:
                    try:
                        one = await loop.run_in_executor(self.executor, run_in_locale, locale_of(item.request),
                                                         self._run, self.pipelines, [item.job])
                        _resolve(item, result=one[0])
                    except Exception as single_exc:
                        _resolve(item, exc=single_exc)
                continue
            for item, result in zip(batch, results, strict=True):
                if item.job.stopped():  # it asked to stop while its batch-mates carried on
                    _resolve(item, exc=GenerationCancelled(f"job {item.request.job_id} stopped"))
                else:
                    _resolve(item, result=result)

    async def _collect(self) -> list[_Item]:
        """The oldest pending request plus compatible ones, waiting up to the window for more."""
        head = self._pending[0]
        key = batch_key(head.request)
        if key is not None and self.max_batch > 1 and self.window_s > 0:
            deadline = asyncio.get_running_loop().time() + self.window_s
            while self._compatible_count(key) < self.max_batch:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), remaining)
        if key is None:
            batch = [head]
        else:
            batch = [i for i in self._pending if batch_key(i.request) == key][: self.max_batch]
        for item in batch:
            self._pending.remove(item)
        for item in batch:
            if item.job.stopped():  # timed out or cancelled while waiting: never start it
                _resolve(item, exc=GenerationCancelled(f"job {item.request.job_id} stopped before it started"))
        return [i for i in batch if not i.future.done()]

    def _compatible_count(self, key: tuple[object, ...]) -> int:
        return sum(1 for i in self._pending if batch_key(i.request) == key)


def _resolve(item: _Item, *, result: GenerationResult | None = None, exc: BaseException | None = None) -> None:
    if item.future.done():
        return
    if exc is not None:
        item.future.set_exception(exc)
    else:
        assert result is not None
        item.future.set_result(result)
