"""Redis is a trust boundary: the embedded Redis `reelsmith run` starts is never an open port without auth.

The suite's own `redis_server` fixture stays unauthenticated on purpose: it is a test fixture on a free port,
not what the service starts.
"""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from core.generation.pipeline import PipelineSet
from core.queue.connection import connect, ensure_redis
from core.service.features import build_service
from core.settings import Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for


def _settings(data_dir: Path, tiny_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, tiny_models_dir=tiny_dir, poll_delay_s=0.01,
                    progress_min_interval_s=0.0)


async def test_embedded_redis_refuses_unauthenticated_clients_and_workers_find_it(
        tmp_path: Path, tiny_dir: Path, pipelines: PipelineSet) -> None:
    data_dir = tmp_path / "data"
    run_settings, server = ensure_redis(_settings(data_dir, tiny_dir))  # exactly what `reelsmith run` does
    assert server is not None and run_settings.redis_url is not None
    try:
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, socket_connect_timeout=2)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        with pytest.raises(redis.AuthenticationError):
            anonymous.set("owned", "1")
        anonymous.close()

        # Only this OS user can read the password, or the AOF beside it.
        url_file = data_dir / "redis" / "server.url"
        assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data_dir / "redis").stat().st_mode) == 0o700

        # `reelsmith worker` in the same data dir uses that server instead of starting its own, and runs jobs.
        worker_settings, second = ensure_redis(_settings(data_dir, tiny_dir))
        assert second is None and worker_settings.redis_url == run_settings.redis_url
        redis_client = await connect(run_settings)
        try:
            service = build_service(run_settings, redis_client)
            out = await service.handle(Requester(platform="web", user_id="u", chat_id="c"), "/imagine a fox")
            assert out.ok and out.job_id, out.text
            async with running_worker(worker_settings, pipelines):
                reply = await wait_for(lambda: service.queue.load_reply(out.job_id or ""), timeout=30)
            assert reply.error is None and reply.media
        finally:
            await redis_client.aclose()
    finally:
        server.stop()
    assert not url_file.exists()  # a stopped server leaves no URL for others to follow


def test_processes_started_together_share_one_embedded_redis(tmp_path: Path, tiny_dir: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = list(pool.map(lambda _: ensure_redis(_settings(tmp_path / "data", tiny_dir)), range(2)))
    servers = [server for _, server in started if server is not None]
    try:
        assert len(servers) == 1  # two servers on one AOF directory would corrupt it
        assert started[0][0].redis_url == started[1][0].redis_url
    finally:
        for server in servers:
            server.stop()
