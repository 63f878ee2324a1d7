"""Workers on other hosts cut off the network: their leases lapse, others rerun, late results are fenced off.

Four hosts made of network namespaces (tests/faults/netns.py): Redis on A, workers on B and C, the bot on D
(tests/faults/netns_bot.py). Workers run the test job (FAULT_FAKE_STEP_S in tests/faults/worker_main.py),
which goes through the real labelling, storing, fencing, reply and quota path without a model. Needs root;
skipped with the reason elsewhere.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.queue.connection import connect
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import GenerationRequest, JobKind, Requester
from tests.conftest import wait_for
from tests.faults.conftest import Proc, Procs, child_env
from tests.faults.netns import Network, start_redis, unavailable

LEASE_S = 3.0


@dataclass
class Hosts:
    net: Network
    settings: Settings
    procs: Procs
    out: Path

    def worker(self, name: str, host: str, step_s: float) -> Proc:
        return self.procs.worker(name, self.settings, prefix=self.net.command(host, []), step_s=step_s)

    def bot(self, jobs: int, members: int, steps: int) -> Proc:
        return self.procs.start("bot", ["tests/faults/netns_bot.py", str(self.out), str(jobs), str(members),
                                        str(steps)], child_env(self.settings), self.net.command("d", []))

    def posted(self) -> list[str]:
        path = self.out / "replies"
        return path.read_text().splitlines() if path.exists() else []

    def accepted(self) -> dict[str, str]:
        """Accepted job ids -> member ids, once the bot has submitted everything."""
        path = self.out / "accepted"
        return dict(line.split() for line in path.read_text().splitlines()) if path.exists() else {}


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    net = Network(["a", "b", "c", "d"])
    procs = Procs(tmp_path)
    redis: subprocess.Popen[bytes] | None = None
    try:
        net.up()
        redis = start_redis(net, "a", tmp_path / "redis")
        settings = Settings(
            _env_file=None, redis_url=f"redis://{net.address('a')}:6379/0", data_dir=tmp_path / "data",
            key_prefix="np", queue_name="np:queue", poll_delay_s=0.02, job_lease_s=LEASE_S, max_tries=3,
            quota_max_in_flight=20, quota_credits=1000, progress_min_interval_s=1.0,
        )
        out = tmp_path / "bot"
        out.mkdir()
        yield Hosts(net, settings, procs, out)
    finally:
        procs.stop_all()  # before the namespaces go: a process outlives its namespace's deletion
        if redis is not None:
            redis.kill()
            redis.wait(timeout=10)
        net.down()


@pytest.fixture
async def service(hosts: Hosts) -> AsyncIterator[Reelsmith]:
    """The test's own view (from the root namespace, over the bridge): quota book and queue state."""
    redis = await connect(hosts.settings)  # retries while Redis on host A starts
    yield build_service(hosts.settings, redis)
    await redis.aclose()


async def _runner_of(workers: list[Proc], job_id: str, job_try: int) -> Proc:
    async def found() -> Proc | None:
        return next((w for w in workers if f"job {job_id} try {job_try} started" in w.log()), None)

    return await wait_for(found, timeout=120, interval=0.02)  # type: ignore[no-any-return]


async def _charged_exactly_once(service: Reelsmith, accepted: dict[str, str], steps: int) -> None:
    """Every reservation settled once; each member's spend is the sum of their jobs' costs, none in flight."""
    book = QuotaBook(service.redis, service.settings)
    states = Counter([await book.reservation_state(job_id) for job_id in accepted])
    assert states == Counter({"settled": len(accepted)}), states
    cost = job_cost(GenerationRequest(requester=Requester(platform="web", user_id="x", chat_id="x"),
                                      kind=JobKind.IMAGE, prompt="a red fox", width=16, height=16, seed=0, steps=steps),
                    service.settings)
    for member, jobs in Counter(accepted.values()).items():
        usage = await book.usage("web", member)
        assert (usage.used, usage.in_flight) == (cost * jobs, 0), member


async def test_cut_off_worker_loses_its_job_and_its_late_result_is_fenced_off(
    hosts: Hosts, service: Reelsmith
) -> None:
    workers = [hosts.worker("b", "b", step_s=0.05), hosts.worker("c", "c", step_s=0.05)]
    for w in workers:
        await w.wait_log("worker ready", timeout=120)
    bot = hosts.bot(jobs=1, members=1, steps=80)  # 4 s, past the 3 s lease: the cut lands mid-job
    await bot.wait_log("submitted", timeout=120)
    (job_id,) = hosts.accepted()
    first = await _runner_of(workers, job_id, 1)
    other = workers[1] if first is workers[0] else workers[0]
    hosts.net.cut(first.name)
    try:
        await other.wait_log(f"job {job_id} try 2 started", timeout=60)  # the cut worker's lease lapsed
    finally:
        hosts.net.restore(first.name)
    await first.wait_log("lost its lease to a later run", timeout=120)  # its late result came back: fenced

    async def posted() -> list[str]:
        return hosts.posted()

    assert await wait_for(posted, timeout=120) == [f"{job_id} ok"]

    async def released() -> bool:
        return not await service.redis.exists(f"arq:job:{job_id}", f"arq:in-progress:{job_id}")

    await wait_for(released, timeout=60)
    assert hosts.posted() == [f"{job_id} ok"]  # one reply, posted once
    assert "lost its lease" not in other.log()
    await _charged_exactly_once(service, hosts.accepted(), steps=80)


JOBS, MEMBERS = 2000, 200
STEP_S = 0.01


async def test_2000_jobs_from_200_members_through_a_link_flap_and_a_worker_kill(
    hosts: Hosts, service: Reelsmith
) -> None:
    # 10 ms a job (and as much again for storing and replying): the bot queues faster than two workers drain, so
    # both always hold jobs when the faults land.
    b, c = hosts.worker("b", "b", step_s=STEP_S), hosts.worker("c", "c", step_s=STEP_S)
    for w in (b, c):
        await w.wait_log("worker ready", timeout=120)
    bot = hosts.bot(jobs=JOBS, members=MEMBERS, steps=1)
    workers = [b, c]

    async def done(at_least: int) -> bool:
        return sum(w.log().count(" done kind=") for w in workers) >= at_least

    await wait_for(lambda: done(JOBS // 4), timeout=180, interval=0.1, what="a quarter of the jobs done")
    # One link flap: B's cable out until C has taken over one of B's jobs (its lease lapsed), then back.
    reruns_before = c.log().count("try 2 started")
    hosts.net.cut("b")
    try:
        await wait_for(lambda: _more(c, reruns_before), timeout=60, interval=0.05, what="C reran a job of cut-off B")
    finally:
        hosts.net.restore("b")
    await wait_for(lambda: done(JOBS // 2), timeout=180, interval=0.1, what="half of the jobs done")
    c.kill()  # one worker kill; its supervisor starts a fresh one
    c2 = hosts.worker("c2", "c", step_s=STEP_S)
    workers.append(c2)
    await bot.wait_log("submitted", timeout=180)
    accepted = hosts.accepted()
    assert len(accepted) == JOBS

    async def everything_answered() -> bool:
        return set(accepted) <= {line.split()[0] for line in hosts.posted()}

    await wait_for(everything_answered, timeout=300, interval=0.2, what="every accepted job answered")

    async def queue_empty() -> bool:
        return await service.redis.zcard(hosts.settings.queue_name) == 0

    await wait_for(queue_empty, timeout=60, what="the queue drained after every reply")
    counts = Counter(line.split()[0] for line in hosts.posted())
    assert set(counts) == set(accepted)  # zero lost
    assert max(counts.values()) == 1  # zero doubled
    assert {line.split()[1] for line in hosts.posted()} == {"ok"}
    await _charged_exactly_once(service, accepted, steps=1)
    logs = "".join(w.log() for w in workers)
    # The flapped job ran twice: one of its runs was fenced off (or found it answered), never posted twice.
    assert "lost its lease to a later run" in logs or "already answered" in logs
    assert "try 1 started" in c2.log()  # the replacement took work


async def _more(proc: Proc, before: int) -> bool:
    return proc.log().count("try 2 started") > before
