"""Fault-injection helpers: a private Redis with AOF per test, real worker/bot processes to kill."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.generation.pipeline import PipelineSet
from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.queue.replies import Event, ReplyConsumer
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, Requester
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
_counter = iter(range(1_000_000))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, persisting with AOF like the deploy files configure it."""
    server = EmbeddedRedis(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
def fsettings(own_redis: EmbeddedRedis, tiny_dir: Path, tmp_path: Path) -> Settings:
    """Settings for fault tests: a 3 s job lease so a dead worker's job is rerun within seconds (renewed every
    0.75 s by a live worker, as in tests/faults/test_partition.py)."""
    n = next(_counter)
    return Settings(
        _env_file=None, redis_url=own_redis.url, data_dir=tmp_path / "data", tiny_models_dir=tiny_dir,
        key_prefix=f"f{n}", queue_name=f"f{n}:queue", progress_min_interval_s=0.0, poll_delay_s=0.02,
        job_lease_s=3.0, max_tries=2,
        # Reliability, not quota, is under test: members may queue many jobs (credits are still charged).
        quota_max_in_flight=20, quota_credits=1000,
    )


@pytest.fixture
async def fservice(fsettings: Settings) -> AsyncIterator[Reelsmith]:
    redis = await connect(fsettings)
    yield build_service(fsettings, redis)
    await redis.aclose()


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a real reelsmith process using `settings` (nothing inherited from ours)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSMITH_") and k != "REDIS_URL"}
    if settings.redis_url is not None:
        env["REDIS_URL"] = settings.redis_url.get_secret_value()
    if settings.redis_sentinels:  # Redis through Sentinel (tests/faults/test_failover.py)
        env.update({"REELSMITH_REDIS_SENTINELS": json.dumps(settings.redis_sentinels),
                    "REELSMITH_REDIS_SENTINEL_MASTER": settings.redis_sentinel_master,
                    "REELSMITH_REDIS_WAIT_REPLICAS": str(settings.redis_wait_replicas),
                    "REELSMITH_REDIS_WAIT_TIMEOUT_MS": str(settings.redis_wait_timeout_ms)})
    env.update({
        "REELSMITH_TINY_MODELS_DIR": str(settings.resolved_tiny_dir()),
        "REELSMITH_DATA_DIR": str(settings.data_dir),
        "REELSMITH_KEY_PREFIX": settings.key_prefix,
        "REELSMITH_QUEUE_NAME": settings.queue_name,
        "REELSMITH_JOB_LEASE_S": str(settings.job_lease_s),
        "REELSMITH_JOB_TIMEOUT_S": str(settings.job_timeout_s),
        "REELSMITH_MAX_TRIES": str(settings.max_tries),
        "REELSMITH_QUOTA_MAX_IN_FLIGHT": str(settings.quota_max_in_flight),
        "REELSMITH_QUOTA_CREDITS": str(settings.quota_credits),
        "REELSMITH_POLL_DELAY_S": str(settings.poll_delay_s),
        "REELSMITH_PROGRESS_MIN_INTERVAL_S": "0.2",
        "REELSMITH_BLOB_TTL_S": str(settings.blob_ttl_s),
        "REELSMITH_RESULT_TTL_S": str(settings.result_ttl_s),
        "REELSMITH_PROVENANCE_RETENTION_S": str(settings.provenance_retention_s),
        "REELSMITH_JOB_KEEP_RESULT_S": str(settings.job_keep_result_s),
        "REELSMITH_MEDIA_SWEEP_INTERVAL_S": str(settings.media_sweep_interval_s),
        "REELSMITH_HEALTH_PORT": "0",  # several processes on one host; health is tested in tests/ops
        "OMP_NUM_THREADS": "1",  # two workers share two cores
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@dataclass
class Proc:
    """A real reelsmith child process; its stdout and stderr go to `log_path`."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, like an OOM kill or a pulled plug."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    async def wait_log(self, text: str, timeout: float = 180.0) -> None:
        async def seen() -> bool:
            if self.popen.poll() is not None and text not in self.log():
                raise AssertionError(f"{self.name} exited ({self.popen.returncode}):\n{self.log()[-3000:]}")
            return text in self.log()

        await wait_for(seen, timeout=timeout, interval=0.05)


@dataclass
class Procs:
    tmp: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str], prefix: Sequence[str] = ()) -> Proc:
        """`sys.executable` with `args`, behind `prefix` (e.g. `ip netns exec NS`, tests/faults/netns.py)."""
        log_path = self.tmp / f"{name}.log"
        out = log_path.open("wb")
        popen = subprocess.Popen([*prefix, sys.executable, *args], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
        out.close()
        proc = Proc(name, popen, log_path)
        self.started.append(proc)
        return proc

    def worker(self, name: str, settings: Settings, prefix: Sequence[str] = (), step_s: float | None = None,
               **extra: str) -> Proc:
        """A worker process on the tiny models, or with `step_s` on the test job (no model loaded: it starts in
        about a second instead of several; tests/faults/worker_main.py)."""
        if step_s is not None:
            extra["FAULT_FAKE_STEP_S"] = str(step_s)
        return self.start(name, ["tests/faults/worker_main.py"], child_env(settings, **extra), prefix)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.popen.poll() is None:
                proc.popen.terminate()
        for proc in self.started:
            try:
                proc.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.stop_all()


@dataclass
class Collector:
    """Reads a platform's reply stream like a bot does and keeps every event it saw."""

    events: list[Event] = field(default_factory=list)

    async def handle(self, event: Event) -> None:
        self.events.append(event)

    def replies(self, job_id: str) -> list[GenerationReply]:
        return [e.reply for e in self.events if e.reply is not None and e.reply.job_id == job_id]


@pytest.fixture
async def collector(fservice: Reelsmith) -> AsyncIterator[Collector]:
    c = Collector()
    consumer = ReplyConsumer(fservice.redis, fservice.settings, "web", "collector")
    consumer.block_ms = 50
    task = asyncio.create_task(consumer.run(c.handle))
    yield c
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


MEMBER = Requester(platform="web", user_id="member", chat_id="room")


def image_request(steps: int = 1, size: int = 64, requester: Requester = MEMBER, **kw: Any) -> GenerationRequest:
    return GenerationRequest(requester=requester, kind=JobKind.IMAGE, prompt="a red fox", width=size, height=size,
                             seed=7, steps=steps, **kw)


async def settled(service: Reelsmith, job_id: str, timeout: float = 120.0) -> GenerationReply:
    """Wait until the job has its reply and arq has let go of it (no more tries can run)."""
    reply = await wait_for(lambda: service.queue.load_reply(job_id), timeout=timeout)

    async def released() -> bool:
        return not await service.redis.exists(f"arq:job:{job_id}", f"arq:in-progress:{job_id}")

    await wait_for(released, timeout=timeout)
    return reply  # type: ignore[no-any-return]


async def finalized(service: Reelsmith) -> list[str]:
    raw = await service.redis.lrange(service.settings.key("probe", "finalized"), 0, -1)
    return [r.decode() for r in raw]


def in_process_worker(settings: Settings, pipelines: PipelineSet) -> Any:
    from workers.settings import build_worker

    return build_worker(settings, warm=False, pipelines=pipelines, handle_signals=False)

