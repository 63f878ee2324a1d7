"""Redis fails over under load: master SIGKILLed, a sentinel promotes the replica, everyone follows it.

A real master, replica and three sentinels (tests/faults/sentinel_cluster.py); two real worker processes and
this process's service (the bot side: guards, quota book, reply stream) connect through the sentinels only.
With `redis_wait_replicas=1` every accepted job, charge, fencing token and reply is on the replica before the
service goes on, so the promoted replica has them all: every accepted job is answered exactly once and
charged exactly once. The killed master then comes back as a replica of the promoted one, so the writes after the
failover are replicated (and WAITed for) again; with no replica left, each of them would wait out its whole
`redis_wait_timeout_ms`. The workers run the test job (no model; tests/faults/worker_main.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.context import ChatContext
from core.queue.connection import connect
from core.queue.replies import ReplyConsumer
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import GenerationRequest, Requester
from tests.conftest import wait_for
from tests.faults.conftest import Collector, Procs, image_request, settled
from tests.faults.sentinel_cluster import MASTER_NAME, SentinelCluster

BEFORE, AFTER, MEMBERS = 24, 12, 6


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    c = SentinelCluster(tmp_path / "cluster")
    try:
        yield c.start()
    finally:
        c.stop()


@pytest.fixture
def ssettings(cluster: SentinelCluster, tiny_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, redis_sentinels=cluster.sentinel_addresses, redis_sentinel_master=MASTER_NAME,
        redis_wait_replicas=1, redis_wait_timeout_ms=2000,
        data_dir=tmp_path / "data", tiny_models_dir=tiny_dir, key_prefix="fo", queue_name="fo:queue",
        progress_min_interval_s=0.0, poll_delay_s=0.02, job_lease_s=5.0, max_tries=3,
        quota_max_in_flight=20, quota_credits=1000,
    )


@pytest.fixture
async def sservice(ssettings: Settings) -> AsyncIterator[Reelsmith]:
    redis = await connect(ssettings)
    yield build_service(ssettings, redis)
    await redis.aclose()


async def _submit(service: Reelsmith, members: list[Requester], count: int) -> list[GenerationRequest]:
    accepted = []
    for i in range(count):
        request = image_request(steps=2, size=32, requester=members[i % len(members)])
        assert (await service.enqueue(request, ChatContext())).ok
        accepted.append(request)
    return accepted


async def test_master_killed_under_load_no_job_lost_doubled_or_charged_twice(
    cluster: SentinelCluster, ssettings: Settings, sservice: Reelsmith, procs: Procs
) -> None:
    collector = Collector()
    consumer = ReplyConsumer(sservice.redis, ssettings, "web", "collector")
    consumer.block_ms = 50
    reader = asyncio.create_task(consumer.run(collector.handle))
    try:
        workers = [procs.worker(n, ssettings, step_s=0.1) for n in ("w1", "w2")]
        for w in workers:
            await w.wait_log("worker ready")
        members = [Requester(platform="web", user_id=f"m{i}", chat_id=f"c{i}") for i in range(MEMBERS)]
        accepted = await _submit(sservice, members, BEFORE)

        async def some_answered() -> bool:
            return len({e.reply.job_id for e in collector.events if e.reply}) >= 4

        await wait_for(some_answered, timeout=180, interval=0.05)
        old = cluster.master_port()
        assert old is not None
        cluster.server_on(old).kill()  # under load: jobs queued and running
        new = await asyncio.to_thread(cluster.wait_for_promotion, old)
        assert new != old
        await asyncio.to_thread(cluster.revive_as_replica, cluster.server_on(old), new)

        async def master_answers() -> bool:
            try:
                return bool(await sservice.redis.ping())
            except Exception:  # the pool finds the new master on a later try
                return False

        await wait_for(master_answers, timeout=60, interval=0.2)
        accepted += await _submit(sservice, members, AFTER)  # accepted by the promoted replica

        job_ids = {r.job_id for r in accepted}

        async def all_answered() -> bool:
            return job_ids <= {e.reply.job_id for e in collector.events if e.reply}

        await wait_for(all_answered, timeout=300, interval=0.2)
        for request in accepted:
            await settled(sservice, request.job_id, timeout=120)
        for w in workers:  # both followed the new master: a failover ends no worker
            assert w.popen.poll() is None, f"{w.name} exited:\n{w.log()[-3000:]}"
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader

    # Published once per job: one stream entry each. Delivery is at least once: an entry handled just before the
    # master died may come again, as the same entry, which adapters skip by their delivery state.
    entries = {(e.reply.job_id, e.entry_id) for e in collector.events if e.reply is not None}
    counts = Counter(job for job, _entry in entries)
    assert set(counts) == job_ids  # none lost
    assert max(counts.values()) == 1  # none doubled
    redelivered = len([e for e in collector.events if e.reply is not None]) - len(entries)
    assert redelivered <= 2, redelivered  # acks are replicated too: only the entries in hand at the kill
    replies = {e.reply.job_id: e.reply for e in collector.events if e.reply is not None}
    assert all(r.error is None and len(r.media) == 1 for r in replies.values()), [
        r.error for r in replies.values() if r.error]
    # Charged exactly once per job: every reservation settled, every member's total the sum of their jobs.
    book = QuotaBook(sservice.redis, ssettings)
    assert {await book.reservation_state(r.job_id) for r in accepted} == {"settled"}
    for m in members:
        usage = await book.usage(m.platform, m.user_id)
        expected = sum(job_cost(r, ssettings) for r in accepted if r.requester == m)
        assert (usage.used, usage.in_flight) == (expected, 0), m.user_id
