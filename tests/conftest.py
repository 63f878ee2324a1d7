"""Shared fixtures: a real embedded Redis, the tiny model set, a running worker, the playground."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from core.generation.pipeline import PipelineSet
from core.generation.tiny_models import build_tiny_models
from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings

# One intra-op thread for torch (read when a test first imports it): the test models are tiny, and on a shared
# two-core machine every op's parallel region waits for a descheduled second thread, 10-70x slower than one.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A private redis-server on a free port (never the developer's 6379)."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server
    server.stop()


TEST_MEDIA_STORE = os.environ.get("REELSMITH_TEST_MEDIA_STORE", "filesystem")
"""Which media store the suite runs on: filesystem (default, nothing to install) or s3 (a moto server)."""


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-protocol server (moto's server mode) on a free loopback port, for the whole session."""
    from tests.storage.s3_server import moto_server

    with moto_server() as url:
        yield url


def s3_media_settings(endpoint: str, prefix: str = "media/") -> dict[str, Any]:
    """Settings fields selecting the s3 media store on a test S3 server (moto takes any credentials)."""
    return {"media_store": "s3", "media_s3_endpoint_url": endpoint, "media_s3_bucket": "reelsmith-test",
            "media_s3_prefix": prefix, "media_s3_access_key_id": SecretStr("testing"),
            "media_s3_secret_access_key": SecretStr("testing")}


@pytest.fixture(scope="session")
def media_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The media store fields every test's settings get (REELSMITH_TEST_MEDIA_STORE selects the store)."""
    if TEST_MEDIA_STORE == "s3":
        return s3_media_settings(request.getfixturevalue("s3_endpoint"))
    if TEST_MEDIA_STORE != "filesystem":
        raise pytest.UsageError(f"REELSMITH_TEST_MEDIA_STORE is filesystem or s3, not {TEST_MEDIA_STORE!r}")
    return {}


@pytest.fixture(scope="session", autouse=True)
async def _close_media_clients() -> AsyncIterator[None]:
    """Close the S3 store's shared clients when the session ends (when any test used one)."""
    yield
    import sys

    s3 = sys.modules.get("core.storage.s3")
    if s3 is not None:
        await s3.close_shared()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_models(tmp_path_factory.mktemp("models") / "tiny")


_counter = iter(range(1_000_000))


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tiny_dir: Path, tmp_path: Path, media_settings: dict[str, Any]) -> Settings:
    """Settings isolated per test by a unique key prefix and queue name (and data dir: the filesystem media)."""
    n = next(_counter)
    return Settings(
        _env_file=None,
        redis_url=redis_server.url,
        data_dir=tmp_path / "data",
        tiny_models_dir=tiny_dir,
        key_prefix=f"t{n}",
        queue_name=f"t{n}:queue",
        progress_min_interval_s=0.0,
        poll_delay_s=0.01,
        **media_settings,
    )


@pytest.fixture(scope="session")
def pipelines(tiny_dir: Path) -> PipelineSet:
    """Warm tiny pipelines shared by every test's worker (loading once keeps the suite fast)."""
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir))
    ps.warm_up()
    return ps


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Reelsmith]:
    redis = await connect(settings)
    yield build_service(settings, redis)
    await redis.aclose()


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, pipelines: PipelineSet) -> AsyncIterator[Any]:
    """A real arq worker running in this event loop until the block ends."""
    from workers.settings import build_worker

    w = build_worker(settings, warm=False, pipelines=pipelines, handle_signals=False)
    task = asyncio.create_task(w.async_run())
    try:
        yield w
    finally:
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@pytest.fixture
async def worker(settings: Settings, pipelines: PipelineSet) -> AsyncIterator[Any]:
    """A real arq worker in this event loop, running the tiny pipelines."""
    async with running_worker(settings, pipelines) as w:
        yield w


@pytest.fixture
async def web_client(service: Reelsmith) -> AsyncIterator[TestClient[Any, Any]]:
    """The playground served on 127.0.0.1 with its reply consumer running; the client holds the owner's token."""
    from bots.web.app import WebPlayground

    playground = WebPlayground(service)
    playground.consumer.block_ms = 50
    client = TestClient(TestServer(playground.build_app(), host="127.0.0.1"), headers=playground.access.bearer_header())
    await client.start_server()
    yield client
    await client.close()


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 30.0, interval: float = 0.05,
                   what: str = "") -> Any:
    """Poll `check` until it returns a truthy value; fail the test on timeout, naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)


def process_env(settings: Settings, tiny_dir: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a separate Reelsmith process sharing the test's Redis and key prefix."""
    assert settings.redis_url is not None
    return {
        **media_env(settings),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir.parent),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "REELSMITH_KEY_PREFIX": settings.key_prefix,
        "REELSMITH_QUEUE_NAME": settings.queue_name,
        "REELSMITH_TINY_MODELS_DIR": str(tiny_dir),
        "REELSMITH_DATA_DIR": str(data_dir),
        "REELSMITH_POLL_DELAY_S": "0.02",
        "REELSMITH_PROGRESS_MIN_INTERVAL_S": "0",
        **extra,
    }


def media_env(settings: Settings) -> dict[str, str]:
    """The environment that points another process at the same media store as `settings`."""
    if settings.media_store == "filesystem":
        return {"REELSMITH_MEDIA_DIR": str(settings.resolved_media_dir())}
    env = {"REELSMITH_MEDIA_STORE": "s3", "REELSMITH_MEDIA_S3_BUCKET": settings.media_s3_bucket,
           "REELSMITH_MEDIA_S3_PREFIX": settings.media_s3_prefix,
           "REELSMITH_MEDIA_S3_ENDPOINT_URL": settings.media_s3_endpoint_url or ""}
    for name in ("media_s3_access_key_id", "media_s3_secret_access_key"):
        value = getattr(settings, name)
        if value is not None:
            env[f"REELSMITH_{name.upper()}"] = value.get_secret_value()
    return env
