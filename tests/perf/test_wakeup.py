"""Low-latency pickup: an enqueue wakes an idle worker at once instead of waiting for its next poll."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from core.generation.pipeline import PipelineSet
from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import wait_for
from workers.settings import build_worker


async def test_enqueue_wakes_a_worker_with_a_long_poll(settings: Settings, pipelines: PipelineSet) -> None:
    slow_poll = settings.model_copy(update={"poll_delay_s": 120.0})
    worker = build_worker(slow_poll, warm=False, pipelines=pipelines, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    redis = await connect(slow_poll)
    try:
        service = Reelsmith(slow_poll, redis)
        await wait_for(lambda: _subscribed(redis, slow_poll.queue_name))
        polls_before = worker.polls
        out = await service.handle(Requester(platform="web", user_id="u", chat_id="c"), "/imagine a fox")
        # Without the wake-up this would wait for the 120 s fallback poll.
        reply = await wait_for(lambda: service.queue.load_reply(out.job_id or ""), timeout=30)
        assert reply.error is None
        assert worker.wakeups >= 1 and worker.polls > polls_before
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await redis.aclose()


async def _subscribed(redis: Any, queue: str) -> bool:
    counts = await redis.pubsub_numsub(f"{queue}:wake")
    return bool(counts and counts[0][1] >= 1)
