"""GPU minutes per tier: the worker records each job's render time under its tier; owners read them next to
revenue in `/mod usage`, and Prometheus exposes them (real Redis, the real worker, the full service)."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from core.billing.ledger import PurchaseLedger
from core.billing.offers import Offer
from core.generation.pipeline import PipelineSet
from core.ops.metrics import Metrics, process_metrics
from core.ops.usage import gpu_by_tier
from core.queue.connection import connect
from core.quotas.book import QuotaBook
from core.quotas.relax import RelaxLane
from core.service.features import build_service
from core.settings import QuotaTier, Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for

ALICE = Requester(platform="telegram", user_id="1", chat_id="-100")  # default tier, then the relax lane
BOB = Requester(platform="telegram", user_id="2", chat_id="-100")  # supporter
OWNER = Requester(platform="telegram", user_id="9", chat_id="9")


def _gpu_metric(platform: str, tier: str) -> float:
    value = process_metrics().registry.get_sample_value("reelsmith_gpu_seconds_total",
                                                        {"platform": platform, "tier": tier})
    return value or 0.0


async def test_gpu_minutes_per_tier_in_mod_usage_and_metrics(settings: Settings, pipelines: PipelineSet) -> None:
    s = settings.model_copy(update={
        "owner_ids": ["telegram:9"], "quota_credits": 1,
        "quota_tiers": {"supporter": QuotaTier(credits=10, weight=2)}, "quota_tier_users": {"telegram:2": "supporter"},
    })
    redis = await connect(s)
    service = build_service(s, redis)
    await RelaxLane(redis, s).set_enabled("telegram", "-100", True)
    before = {t: _gpu_metric("telegram", t) for t in ("default", "supporter", "relax")}
    jobs = {"default": await service.handle(ALICE, "/imagine a lighthouse"),
            "supporter": await service.handle(BOB, "/imagine a harbour"),
            "relax": await service.handle(ALICE, "/imagine a storm")}  # Alice is out of credits now
    assert all(out.ok and out.job_id for out in jobs.values())
    assert jobs["relax"].request is not None and jobs["relax"].request.tier == "relax"
    async with running_worker(s, pipelines):
        replies = {tier: await wait_for(lambda o=out: service.queue.load_reply(o.job_id or ""), timeout=120)
                   for tier, out in jobs.items()}
        # The finalizers (one records GPU time) run right after the reply is saved.
        await wait_for(lambda: _recorded(redis, s, 3), timeout=30)
    assert all(r.error is None and r.gpu_s > 0 for r in replies.values())

    rows = {row.tier: row for row in await gpu_by_tier(redis, s, "telegram")}
    for tier, reply in replies.items():
        assert rows[tier].jobs == 1 and abs(rows[tier].seconds - reply.gpu_s) < 1e-6
        assert abs(_gpu_metric("telegram", tier) - before[tier] - reply.gpu_s) < 1e-6

    text = (await service.handle(OWNER, "/mod usage")).text
    assert "No purchases on telegram yet." in text
    for tier, reply in replies.items():
        minutes = f"{reply.gpu_s / 60:.3g}"
        assert f"- {tier}: {minutes} GPU minutes, 1 job" in text, text
    # Members may not read the service's figures.
    assert "GPU minutes" not in (await service.handle(BOB, "/mod usage")).text
    await redis.aclose()


async def _recorded(redis: Redis, s: Settings, jobs: int) -> bool:
    return sum(row.jobs for row in await gpu_by_tier(redis, s, "telegram")) >= jobs


async def test_revenue_per_pack_is_exposed_as_a_metric(settings: Settings) -> None:
    redis = await connect(settings)
    ledger = PurchaseLedger(redis, settings, QuotaBook(redis, settings))
    offer = Offer(pack_id="small", credits=5, stars=10, user_id="1", expires=int(time.time()) + 600)
    assert await ledger.credit("telegram", "charge-1", offer, "1")
    assert await ledger.credit("telegram", "charge-2", offer, "1")
    assert await ledger.refund("telegram", "charge-2", by="9") is not None
    metrics = Metrics()
    await metrics.refresh(redis, settings)
    value = metrics.registry.get_sample_value
    assert value("reelsmith_revenue_stars", {"platform": "telegram", "pack": "small"}) == 10
    assert value("reelsmith_revenue_stars", {"platform": "telegram", "pack": "all"}) == 10
    assert value("reelsmith_revenue_stars", {"platform": "discord", "pack": "all"}) == 0
    await redis.aclose()
