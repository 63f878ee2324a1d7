"""Redis connections: one arq pool (a redis.asyncio client) per process."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool
from pydantic import SecretStr
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.queue import job_codec
from core.queue.embedded_redis import EmbeddedRedis, find_or_start
from core.settings import Settings


def ensure_redis(settings: Settings) -> tuple[Settings, EmbeddedRedis | None]:
    """Return settings with a usable redis_url; without one, use the data dir's private server or start it.

    The returned server is the caller's to stop; None when the URL was configured or another process's
    server (`reelsmith run` in the same data dir) answered.
    """
    if settings.redis_url is not None:
        return settings, None
    url, server = find_or_start(settings.data_dir / "redis")
    return settings.model_copy(update={"redis_url": SecretStr(url)}), server


def redis_settings(settings: Settings) -> RedisSettings:
    if settings.redis_url is None:
        raise RuntimeError("redis_url is not set; call ensure_redis() first")
    rs = RedisSettings.from_dsn(settings.redis_url.get_secret_value())
    rs.conn_retries = 30
    rs.conn_retry_delay = 1
    # After a Redis restart every pooled connection is dead: retry a command on a fresh one (with
    # backoff) instead of failing it. Callers keep their own loops for longer outages.
    rs.retry = Retry(ExponentialBackoff(cap=2.0, base=0.1), 4)
    rs.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    return rs


async def connect(settings: Settings) -> ArqRedis:
    """An arq pool: enqueues jobs and serves as the general async Redis client.

    Jobs and results are JSON (core/queue/job_codec.py), never pickle: writing Redis must not run code anywhere.
    """
    return await create_pool(redis_settings(settings), default_queue_name=settings.queue_name,
                             job_serializer=job_codec.dumps, job_deserializer=job_codec.loads)


def as_text(value: bytes | str | int) -> str:
    """A Redis reply as text: the arq pool answers bytes (job records must stay bytes), so every reader decodes.

    Lua scripts may answer integers too; those come back as their digits."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
