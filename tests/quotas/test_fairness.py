"""Fair queueing: a flooding user does not starve others; higher tiers get more share, never all of it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from arq.worker import Worker, func

from core.queue import job_codec
from core.queue.connection import redis_settings
from core.queue.fairness import VIRTUAL_CEILING
from core.queue.jobs import JOB_FUNCTION
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest, Requester
from tests.conftest import wait_for
from tests.quotas.conftest import MakeService

A = Requester(platform="telegram", user_id="a", chat_id="c")
B = Requester(platform="telegram", user_id="b", chat_id="c")


def _request(service: Reelsmith, who: Requester, prompt: str = "x", priority: float = 1.0) -> GenerationRequest:
    request = service.build_request(service.parse(f"/imagine {prompt}"), who, [])
    request.priority = priority
    return request


@contextlib.asynccontextmanager
async def _stub_worker(settings: Settings, started: list[str], job_s: float) -> AsyncIterator[Worker]:
    """A real arq worker whose job only records its start and waits."""

    async def generate(ctx: dict[str, Any], payload: dict[str, Any]) -> None:
        started.append(payload["requester"]["user_id"] + ":" + payload["prompt"])
        await asyncio.sleep(job_s)

    w = Worker(functions=[func(generate, name=JOB_FUNCTION)], queue_name=settings.queue_name,
                   redis_settings=redis_settings(settings), max_jobs=2, poll_delay=0.01, handle_signals=False,
                   job_serializer=job_codec.dumps, job_deserializer=job_codec.loads)
    task = asyncio.create_task(w.async_run())
    try:
        yield w
    finally:
        with contextlib.suppress(asyncio.CancelledError):  # close() cancels the stub jobs still sleeping
            await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_light_user_starts_before_the_flooders_fifth_job(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    started: list[str] = []
    for i in range(50):
        await service.queue.enqueue(_request(service, A, f"a{i}"))
    async with _stub_worker(service.settings, started, job_s=0.2):
        # The worker has read all of A's jobs and started the first: B queues after A's 50 now.
        await wait_for(lambda: asyncio.sleep(0, bool(started)), timeout=20, interval=0.01)
        position = await service.queue.enqueue(_request(service, B, "b0"))
        assert position <= 3  # behind at most the two of A's jobs already running
        await wait_for(lambda: asyncio.sleep(0, "b:b0" in started), timeout=20, interval=0.01)
    b_index = started.index("b:b0")
    a_before_b = [s for s in started[:b_index] if s.startswith("a:")]
    assert len(a_before_b) < 5, started
    assert a_before_b == [f"a:a{i}" for i in range(len(a_before_b))]  # A's own jobs keep their order


async def test_fifo_without_fair_queueing_puts_the_light_user_last(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False, fair_queueing=False)
    for i in range(50):
        await service.queue.enqueue(_request(service, A, f"a{i}"))
    position = await service.queue.enqueue(_request(service, B, "b0"))
    scores = [score for _, score in await service.redis.zrange(service.settings.queue_name, 0, -1, withscores=True)]
    # Arrival order: B's score is the latest (jobs queued in the same millisecond tie and sort by id).
    assert scores[position - 1] == max(scores) and position > 40


async def test_queued_order_interleaves_users(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    for i in range(5):
        await service.queue.enqueue(_request(service, A, f"a{i}"))
    b_jobs = [_request(service, B, f"b{i}") for i in range(3)]
    for r in b_jobs:
        await service.queue.enqueue(r)
    order = await _order(service)
    # B's i-th job shares its virtual start with A's i-th (ties sort by id): the two alternate.
    b_pos = [order.index(r.job_id) for r in b_jobs]
    assert all(p in (2 * i, 2 * i + 1) for i, p in enumerate(b_pos)), (b_pos, order)


async def test_higher_tier_gets_more_share_without_starving_the_default(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    jobs = {}
    for i in range(30):
        for who, weight in ((A, 2.0), (B, 1.0)):
            r = _request(service, who, f"{who.user_id}{i}", priority=weight)
            jobs[r.job_id] = who.user_id
            await service.queue.enqueue(r)
    first = [jobs[j] for j in (await _order(service))[:30]]
    assert 19 <= first.count("a") <= 21, first  # twice the share while both are busy
    assert "b" in first[:3] and first.count("b") >= 9  # the default tier keeps moving


async def test_videos_count_as_their_cost(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    videos = [service.build_request(service.parse(f"/video v{i}"), A, []) for i in range(3)]
    for r in videos:
        await service.queue.enqueue(r)
    images = [_request(service, B, f"i{i}") for i in range(6)]
    for r in images:
        await service.queue.enqueue(r)
    order = await _order(service)
    # A video costs 5 credits: B's five images fit in before A's second video.
    assert order.index(videos[1].job_id) > max(order.index(r.job_id) for r in images[:5]), order


async def test_an_idle_user_banks_no_priority(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    for i in range(10):
        await service.queue.enqueue(_request(service, A, f"a{i}"))
    await service.redis.delete(service.settings.queue_name)  # all of A's jobs ran
    late_b, late_a = _request(service, B, "b"), _request(service, A, "a")
    await service.queue.enqueue(late_b)
    await service.queue.enqueue(late_a)
    scores = [await service.redis.zscore(service.settings.queue_name, r.job_id) for r in (late_b, late_a)]
    assert scores[0] == scores[1]  # A's old flood no longer counts against A, nor for B


async def test_due_retries_return_to_the_front(make_service: MakeService) -> None:
    service, _ = await make_service(quota_enabled=False)
    q = service.settings.queue_name
    retry, later = _request(service, A, "retry"), _request(service, A, "later")
    for r in (retry, later, _request(service, A, "a2")):
        await service.queue.enqueue(r)
    now_ms = service.queue.fair.clock() * 1000
    await service.redis.zadd(q, {retry.job_id: now_ms - 1000})  # how arq scores a retry whose delay passed
    await service.redis.zadd(q, {later.job_id: now_ms + 60_000})  # a retry still waiting out its delay
    await service.queue.enqueue(_request(service, B, "b"))
    order = await _order(service)
    assert order[0] == retry.job_id and order[-1] == later.job_id
    assert (await service.redis.zscore(q, retry.job_id)) < VIRTUAL_CEILING
    assert (await service.redis.zscore(q, later.job_id)) > now_ms


async def _order(service: Reelsmith) -> list[str]:
    """The order the worker picks jobs in: ascending score (arq's zrangebyscore)."""
    raw = await service.redis.zrangebyscore(service.settings.queue_name, "-inf", "+inf")
    return [r.decode() for r in raw]
