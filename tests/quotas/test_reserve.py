"""Check-and-reserve: atomic under concurrency, rolling window, cooldown, in-flight cap, per-chat cap."""

from __future__ import annotations

import asyncio

from core.clock import ManualClock
from core.context import ChatContext
from core.settings import QuotaTier
from core.types import Requester
from tests.quotas.conftest import MakeService

ALICE = Requester(platform="telegram", user_id="1", chat_id="-100")
BOB = Requester(platform="telegram", user_id="2", chat_id="-100")
CAROL = Requester(platform="telegram", user_id="3", chat_id="-200")


async def test_200_concurrent_requests_with_10_credits_admit_exactly_10(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=10, quota_max_in_flight=1000)
    outcomes = await asyncio.gather(*(service.handle(ALICE, f"/imagine fox {i}") for i in range(200)))
    admitted = [o for o in outcomes if o.ok]
    assert len(admitted) == 10
    assert await service.queue.depth() == 10
    refused = [o for o in outcomes if not o.ok]
    assert all("you have 0 left today" in o.text for o in refused), refused[0].text
    usage = await book.usage("telegram", "1")
    assert (usage.used, usage.remaining, usage.in_flight) == (10, 0, 10)


async def test_bad_input_costs_nothing(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=1)
    out = await service.handle(ALICE, "/imagine --seed -4 fox")
    assert not out.ok
    assert (await book.usage("telegram", "1")).used == 0
    assert (await service.handle(ALICE, "/imagine fox")).ok


async def test_costs_follow_kind_and_length(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=100, quota_max_in_flight=10, quota_cost_frames=9)
    assert (await service.handle(ALICE, "/video a wave --frames 9")).ok
    assert (await book.usage("telegram", "1")).used == 5
    assert (await service.handle(ALICE, "/video a wave --frames 17")).ok  # two started multiples of 9 frames
    assert (await book.usage("telegram", "1")).used == 15
    assert (await service.handle(ALICE, "/imagine a wave")).ok
    assert (await book.usage("telegram", "1")).used == 16


async def test_rolling_window_resets_with_the_clock(make_service: MakeService, clock: ManualClock) -> None:
    service, book = await make_service(quota_credits=2, quota_max_in_flight=10, quota_window_s=3600)
    assert (await service.handle(ALICE, "/imagine one")).ok
    clock.advance(1800)
    assert (await service.handle(ALICE, "/imagine two")).ok
    out = await service.handle(ALICE, "/imagine three")
    assert not out.ok and "in 30 min" in out.text, out.text  # the first spend leaves the window then
    clock.advance(1799)
    assert not (await service.handle(ALICE, "/imagine three")).ok
    clock.advance(1)
    assert (await service.handle(ALICE, "/imagine three")).ok  # the first credit is back, the second not
    assert not (await service.handle(ALICE, "/imagine four")).ok
    clock.advance(3600)
    usage = await book.usage("telegram", "1")
    assert usage.used == 0 and usage.remaining == 2


async def test_cooldown_between_jobs(make_service: MakeService, clock: ManualClock) -> None:
    service, _book = await make_service(quota_cooldown_s=30, quota_max_in_flight=10)
    assert (await service.handle(ALICE, "/imagine one")).ok
    clock.advance(10)
    out = await service.handle(ALICE, "/imagine two")
    assert not out.ok and "wait 20 s between jobs" in out.text, out.text
    assert (await service.handle(BOB, "/imagine mine")).ok  # cooldowns are per member
    clock.advance(20)
    assert (await service.handle(ALICE, "/imagine two")).ok


async def test_in_flight_cap_and_settle(make_service: MakeService) -> None:
    service, book = await make_service(quota_max_in_flight=2)
    first = await service.handle(ALICE, "/imagine one")
    assert first.ok and (await service.handle(ALICE, "/imagine two")).ok
    out = await service.handle(ALICE, "/imagine three")
    assert not out.ok and "2 jobs queued or rendering" in out.text
    assert first.job_id is not None
    assert await book.settle(first.job_id, ALICE)
    assert not await book.settle(first.job_id, ALICE)  # once
    assert (await service.handle(ALICE, "/imagine three")).ok
    usage = await book.usage("telegram", "1")
    assert usage.used == 3 and usage.in_flight == 2  # settling keeps the charge


async def test_per_chat_budget(make_service: MakeService, clock: ManualClock) -> None:
    service, book = await make_service(quota_chat_credits=3, quota_max_in_flight=10, quota_window_s=600)
    assert (await service.handle(ALICE, "/imagine a")).ok
    assert (await service.handle(BOB, "/imagine b")).ok
    assert (await service.handle(ALICE, "/imagine c")).ok
    out = await service.handle(BOB, "/imagine d")
    assert not out.ok and "this chat has 0 of its shared credits left" in out.text, out.text
    assert (await book.usage("telegram", "2")).used == 1  # the refused request charged nobody
    assert (await service.handle(CAROL, "/imagine elsewhere")).ok  # another chat has its own budget
    await book.set_chat_budget("telegram", "-100", 4)
    assert (await service.handle(BOB, "/imagine d")).ok
    clock.advance(600)
    assert (await service.handle(BOB, "/imagine e")).ok


async def test_moderator_overrides(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=1, quota_max_in_flight=10)
    assert (await service.handle(ALICE, "/imagine a")).ok
    assert not (await service.handle(ALICE, "/imagine b")).ok
    await book.grant("telegram", "1", 2)
    assert (await service.handle(ALICE, "/imagine b")).ok
    assert (await service.handle(ALICE, "/imagine c")).ok
    assert not (await service.handle(ALICE, "/imagine d")).ok
    await book.set_budget("telegram", "1", 5)
    usage = await book.usage("telegram", "1")
    assert (usage.budget, usage.used, usage.remaining) == (5, 1, 4)  # 3 spent, 2 granted
    await book.reset("telegram", "1")
    await book.set_budget("telegram", "1", None)
    assert (await book.usage("telegram", "1")).remaining == 1


async def test_state_survives_a_restart(make_service: MakeService) -> None:
    service, _ = await make_service(quota_credits=2, quota_max_in_flight=10)
    assert (await service.handle(ALICE, "/imagine a")).ok
    restarted, book = await make_service(quota_credits=2, quota_max_in_flight=10)  # new process, same Redis
    assert (await book.usage("telegram", "1")).used == 1
    assert (await restarted.handle(ALICE, "/imagine b")).ok
    assert not (await restarted.handle(ALICE, "/imagine c")).ok


async def test_quota_command_text(make_service: MakeService, clock: ManualClock) -> None:
    service, _ = await make_service(
        quota_credits=10, quota_tiers={"supporter": QuotaTier(credits=50, max_in_flight=4)},
        quota_tier_roles={"111222333444": "supporter"}, quota_chat_credits=100,
    )
    out = await service.handle(ALICE, "/quota")
    assert out.ok and out.private
    assert "Credits: 10 of 10 left." in out.text and "Jobs in flight: 0 of 2." in out.text
    assert "full budget is available" in out.text
    assert (await service.handle(ALICE, "/video a wave")).ok
    clock.advance(3600)
    out = await service.handle(ALICE, "/quota", ctx=ChatContext(roles=("111222333444",)))
    assert "Credits: 45 of 50 left (supporter tier)." in out.text, out.text
    assert "Jobs in flight: 1 of 4." in out.text
    assert "Window resets in 23 h" in out.text
    assert "This chat: 95 of 100 shared credits left." in out.text
    assert "/quota" in service.help_text()
