"""Bought credits (core.billing adds them): spent only when the window's credits can't cover a job, never
lapsing with the window, given back when the job is refunded, and still narrowed by a chat's own limits."""

from __future__ import annotations

from core.clock import ManualClock
from core.types import Requester
from tests.quotas.conftest import MakeService

ALICE = Requester(platform="telegram", user_id="1", chat_id="-100")


async def test_bought_credits_pay_after_the_window_and_come_back_on_refund(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=1, quota_max_in_flight=10)
    await service.redis.set(book.paid_key("telegram", "1"), 2)
    first = await service.handle(ALICE, "/imagine fox one")
    second = await service.handle(ALICE, "/imagine fox two")
    third = await service.handle(ALICE, "/imagine fox three")
    assert first.ok and second.ok and third.ok
    assert await book.paid_balance("telegram", "1") == 0
    usage = await book.usage("telegram", "1")
    assert (usage.used, usage.paid) == (1, 0)  # the window counts only the job it paid for
    refused = await service.handle(ALICE, "/imagine fox four")
    assert not refused.ok and "0 left today" in refused.text

    assert third.job_id is not None and first.job_id is not None
    assert await book.refund(third.job_id, ALICE, "failed")
    assert await book.paid_balance("telegram", "1") == 1  # back to the bought credits, not the window
    assert await book.refund(first.job_id, ALICE, "failed")
    assert (await book.usage("telegram", "1")).used == 0
    assert await book.paid_balance("telegram", "1") == 1


async def test_bought_credits_outlive_the_window_and_chat_limits_still_apply(make_service: MakeService,
                                                                            clock: ManualClock) -> None:
    service, book = await make_service(quota_credits=0, quota_max_in_flight=10)
    await service.redis.set(book.paid_key("telegram", "1"), 3)
    clock.advance(3 * 24 * 3600)
    await book.set_member_limit("telegram", "-100", "1", 1)
    assert (await service.handle(ALICE, "/imagine fox")).ok
    limited = await service.handle(ALICE, "/imagine fox again")
    assert not limited.ok and "this chat's limit" in limited.text
    assert await book.paid_balance("telegram", "1") == 2  # the refused one took nothing
