"""Workers on several machines: two `reelsmith worker` processes with different names share one Redis queue."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from aiohttp.test_utils import unused_port

from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import process_env, wait_for

ROOT = Path(__file__).resolve().parents[2]
JOBS = 8


@pytest.fixture
def two_workers(settings: Settings, tiny_dir: Path, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two real worker processes, as another host would run them: only REDIS_URL and a name differ."""
    assert settings.redis_url is not None
    procs: list[subprocess.Popen[bytes]] = []
    workers: list[Worker] = []
    for name in ("gpu-box-a", "gpu-box-b"):
        port = unused_port()
        log_path = tmp_path / f"{name}.log"
        env = process_env(settings, tiny_dir, tmp_path / name, REELSMITH_WORKER_NAME=name,
                          REELSMITH_WORKER_MAX_JOBS="1", REELSMITH_HEALTH_PORT=str(port),
                          REELSMITH_LOG_FORMAT="json")
        with log_path.open("wb") as out:
            procs.append(subprocess.Popen([sys.executable, str(ROOT / "reelsmith.py"), "worker"], cwd=tmp_path,
                                          env=env, stdout=out, stderr=subprocess.STDOUT))
        workers.append(Worker(name, port, log_path, procs[-1]))
    yield workers
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Worker:
    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes]

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


async def _ready(worker: Worker) -> bool:
    if worker.proc.poll() is not None:
        raise AssertionError(f"worker {worker.name} exited:\n{worker.log_tail()}")
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{worker.port}/healthz") as resp:
            return resp.status == 200
    except ClientError:
        return False


async def test_two_workers_share_the_queue(service: Reelsmith, two_workers: list[Worker]) -> None:
    for worker in two_workers:
        await wait_for(lambda worker=worker: _ready(worker), timeout=180, interval=0.3)

    job_ids = []
    for i in range(JOBS):
        # One member per job: the default quota allows two jobs in flight per member.
        requester = Requester(platform="web", user_id=f"u{i}", chat_id="multi")
        outcome = await service.submit(requester, f"/imagine fox number {i}")
        assert outcome.ok and outcome.job_id
        job_ids.append(outcome.job_id)

    async def all_ran() -> dict[str, str] | None:
        ran = {}
        for job_id in job_ids:
            worker = await service.redis.hget(service.settings.key("job", job_id), "worker")
            if worker is None:
                return None
            ran[job_id] = worker.decode()
        return ran

    ran = await wait_for(all_ran, timeout=180, interval=0.2)
    per_worker = Counter(ran.values())
    assert set(per_worker) == {"gpu-box-a", "gpu-box-b"}, per_worker
    assert sum(per_worker.values()) == JOBS
    for job_id in job_ids:
        assert await service.queue.state(job_id) == "done"

    # Each worker's JSON log names the jobs it ran, on lines that carry the job id.
    # (the summary line is logged before the record's worker field is set, so it is already there)
    for worker in two_workers:
        logged = {r["job_id"] for r in worker.log_records() if r.get("logger") == "core.ops.metrics" and "job_id" in r}
        assert logged == {j for j, w in ran.items() if w == worker.name}
