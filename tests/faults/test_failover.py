"""Redis fails over under load: master SIGKILLed, a sentinel promotes a replica, everyone follows it.

A real master, two replicas and three sentinels (tests/faults/sentinel_cluster.py, configured as
deploy/k8s-sentinel: `min-replicas-to-write 1`); two real worker processes and this process's service (the bot
side: guards, quota book, reply stream) connect through the sentinels only. With `redis_wait_replicas=1` every
accepted job, charge, fencing token and reply is on a replica before the service goes on, and a bot delivers
only what a replica holds, so the promoted replica has them all: every accepted job is answered exactly once and
charged exactly once. The killed master then comes back as a replica of the promoted one, as a host does. The
workers run the test job (no model; tests/faults/worker_main.py). The other tests here take the failures WAIT
alone does not cover: a deposed master that wakes up still a master, and an entry on the master alone.
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
from core.queue.replies import ReplyBus, ReplyConsumer
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, Requester
from tests.conftest import wait_for
from tests.faults.conftest import Collector, Procs, image_request, settled
from tests.faults.sentinel_cluster import MASTER_NAME, SentinelCluster, _wait, client, replication_info

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


async def test_a_client_left_on_a_deposed_master_writes_to_the_promoted_one(
    cluster: SentinelCluster, sservice: Reelsmith
) -> None:
    """A master stalls (SIGSTOP: a frozen VM), the sentinels promote a replica, the old master wakes up still a
    master, for seconds, until they demote it; its resync then throws away what it took meanwhile. A client
    whose pooled connection still goes there must not write there: the write lands on the promoted master."""
    redis = sservice.redis
    await redis.set("before", "1")  # the pool now holds a connection to the first master
    old = cluster.master_port()
    assert old is not None
    cluster.server_on(old).stall()
    try:
        new = await asyncio.to_thread(cluster.wait_for_promotion, old)
        # The other replica follows the promoted one (the sentinels reconfigure it), so that one takes writes.
        await asyncio.to_thread(_wait, lambda: replication_info(new)["connected_slaves"] != 0, "a replica follows")
    finally:
        cluster.server_on(old).resume()
    # Awake, it has seen its replicas go (they hung up while it slept), and still answers as master.
    await asyncio.to_thread(_wait, lambda: replication_info(old)["connected_slaves"] == 0,
                            "the old master sees no replica")
    assert replication_info(old)["role"] == "master"

    await redis.set("after", "1")

    with client(new) as promoted, client(old) as deposed:
        assert promoted.get("after") == b"1"
        assert deposed.get("after") is None


async def test_a_reply_no_replica_holds_is_not_delivered_until_one_does(
    cluster: SentinelCluster, ssettings: Settings, sservice: Reelsmith
) -> None:
    """What a bot reads is delivered only once a replica has it: an entry on the master alone (a deposed master's,
    or one written in the moment before the master died) can vanish in a failover, and the job's rerun would
    then be posted a second time. The replicas stall here, so the master holds the entry alone for a while."""
    settings = ssettings.model_copy(update={"redis_wait_timeout_ms": 200})
    consumer = ReplyConsumer(sservice.redis, settings, "web", "bot")
    consumer.retry_delay_s = 0.05
    await consumer.ensure_group()
    collector = Collector()
    replicas = [s for s in cluster.servers if s.port != cluster.master_port()]
    for r in replicas:
        r.stall()
    try:
        request = image_request()
        reply = GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                                prompt=request.prompt, seed=request.seed)
        assert await ReplyBus(sservice.redis, settings).publish_reply(reply)
        for _ in range(3):
            assert await consumer.run_once(collector.handle, block_ms=50) == 0
        assert collector.events == []
    finally:
        for r in replicas:
            r.resume()

    async def delivered() -> bool:
        await consumer.run_once(collector.handle, block_ms=50)
        return bool(collector.events)

    await wait_for(delivered, timeout=30, interval=0.05)
    assert [e.reply.job_id for e in collector.events if e.reply] == [request.job_id]
