"""Quota fixtures: a service with the quota guard on an injectable clock, over the real Redis fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.clock import ManualClock
from core.queue.connection import connect
from core.quotas.book import QuotaBook
from core.quotas.guard import QuotaGuard, quota_feature
from core.service.facade import Reelsmith
from core.settings import Settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def make_service(settings: Settings, clock: ManualClock) -> AsyncIterator[Any]:
    """Build a service whose quota guard uses `clock`, with settings changed by keyword."""
    made: list[Reelsmith] = []

    async def make(**changes: Any) -> tuple[Reelsmith, QuotaBook]:
        s = settings.model_copy(update=changes)
        redis = await connect(s)
        book = QuotaBook(redis, s, clock)
        service = Reelsmith(s, redis, [quota_feature(book)])
        made.append(service)
        return service, book

    yield make
    for service in made:
        await service.redis.aclose()


MakeService = Callable[..., Any]


@pytest.fixture
async def quota_service(make_service: MakeService) -> AsyncIterator[tuple[Reelsmith, QuotaBook]]:
    yield await make_service()


def guard_of(service: Reelsmith) -> QuotaGuard:
    return next(g.guard for g in service.guards if isinstance(g.guard, QuotaGuard))
