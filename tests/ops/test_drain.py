"""A stopping worker takes no new jobs and lets the running one finish (scale-down loses no GPU work)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from PIL import Image

from core.service.facade import Reelsmith
from core.types import GenerationRequest, Requester
from tests.conftest import wait_for
from workers.drain import drain_worker


async def test_drain_finishes_running_job_and_leaves_queued_ones(service: Reelsmith, worker: Any) -> None:
    runtime = await wait_for(lambda: _runtime(worker))
    entered, release = threading.Event(), threading.Event()

    def hold(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        entered.set()
        release.wait(60)
        return frames

    runtime.postprocessors.append(hold)
    requester = Requester(platform="web", user_id="d", chat_id="drain")
    try:
        first = await service.submit(requester, "/imagine the running one")
        await wait_for(lambda: _is_set(entered))
        drain = asyncio.create_task(drain_worker(worker, timeout_s=60))
        second = await service.submit(requester, "/imagine queued while stopping")
        await asyncio.sleep(0.3)  # give the worker's poll loop several chances to (wrongly) pick it
        assert not drain.done()  # still waiting for the running job
        release.set()
        assert await drain == 0
    finally:
        release.set()
        runtime.postprocessors.remove(hold)
    assert await service.queue.state(first.job_id or "") == "done"
    assert await service.queue.state(second.job_id or "") == "queued"
    assert await service.queue.position(second.job_id or "") == 1


async def test_drain_gives_up_when_interrupted(service: Reelsmith, worker: Any) -> None:
    runtime = await wait_for(lambda: _runtime(worker))
    entered, release = threading.Event(), threading.Event()

    def hold(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        entered.set()
        release.wait(60)
        return frames

    runtime.postprocessors.append(hold)
    try:
        await service.submit(Requester(platform="web", user_id="d", chat_id="drain2"), "/imagine held")
        await wait_for(lambda: _is_set(entered))
        interrupt = asyncio.Event()
        drain = asyncio.create_task(drain_worker(worker, timeout_s=60, interrupt=interrupt))
        await asyncio.sleep(0)
        interrupt.set()
        assert await drain == 1  # the job is still running; close() will cancel and re-queue it
    finally:
        release.set()
        runtime.postprocessors.remove(hold)


async def _runtime(worker: Any) -> Any:
    return worker.ctx.get("runtime")


async def _is_set(event: threading.Event) -> bool:
    return event.is_set()
