"""An arq Worker that wakes the moment a job is queued or finishes, instead of sleeping a fixed poll delay.

arq polls its queue every `poll_delay` (0.5 s by default). Polling faster cuts pickup latency but
multiplies idle Redis load. Here the queue client PUBLISHes on a wake channel after each enqueue;
every idle worker is subscribed, wakes at once and polls (arq's in-progress lock still decides who
runs the job). A finished job wakes its worker too, so the next queued job starts without a gap.
A slow fallback poll (`idle_poll_s`) still catches deferred retries and missed messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.connections import create_pool
from arq.worker import Worker

from core.queue.jobs import wake_channel

log = logging.getLogger(__name__)


class WakeupWorker(Worker):
    """arq Worker whose main loop blocks on a wake event rather than a fixed sleep."""

    def __init__(self, *args: Any, idle_poll_s: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self.wakeups = 0
        self.polls = 0

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await create_pool(
                self.redis_settings,
                job_deserializer=self.job_deserializer,
                job_serializer=self.job_serializer,
                default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                self._wake.clear()
                self.polls += 1
                await self._poll_iteration()
                if self.burst and await self._burst_done():
                    return
                await self._wait_for_work()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _burst_done(self) -> bool:
        if 0 <= self.max_burst_jobs <= self._jobs_started() or await self.pool.zcard(self.queue_name) == 0:
            await asyncio.gather(*self.tasks.values())
            return True
        return False

    async def _wait_for_work(self) -> None:
        running = [t for t in self.tasks.values() if not t.done()]
        waiter = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait([waiter, *running], timeout=self.idle_poll_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def _listen(self) -> None:
        """Set the wake event for every message on the wake channel; resubscribe after Redis outages."""
        backoff = 0.2
        while True:
            pubsub = self.pool.pubsub()
            try:
                await pubsub.subscribe(wake_channel(self.queue_name))
                backoff = 0.2
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.wakeups += 1
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("wake channel lost (%s); retrying in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
