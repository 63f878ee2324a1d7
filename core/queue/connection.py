"""Redis connections: one arq pool (a redis.asyncio client) per process, the one way to Redis.

Bots, workers (workers/settings.py) and the quota book (it uses the service's pool) all connect here, so a
plain URL, TLS (rediss://, a private CA, a client certificate) and Sentinel (the current master, followed
through failovers) are configured once, in core/settings.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from arq.connections import ArqRedis, RedisSettings, create_pool
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.queue import job_codec
from core.queue.embedded_redis import EmbeddedRedis, find_or_start
from core.queue.sentinel_connection import FollowingConnection, FollowingSSLConnection
from core.settings import Settings

log = logging.getLogger(__name__)

CONN_RETRIES = 30
CONN_RETRY_DELAY_S = 1.0


def ensure_redis(settings: Settings) -> tuple[Settings, EmbeddedRedis | None]:
    """Return settings with a usable redis_url; without one, use the data dir's private server or start it.

    The returned server is the caller's to stop; None when the URL (or sentinels) was configured or another
    process's server (`reelsmith run` in the same data dir) answered.
    """
    if settings.redis_url is not None or settings.redis_sentinels:
        return settings, None
    url, server = find_or_start(settings.data_dir / "redis")
    return settings.model_copy(update={"redis_url": SecretStr(url)}), server


def _retry() -> Retry:
    # After a Redis restart or failover every pooled connection is dead: retry a command on a fresh one (with
    # backoff) instead of failing it. Callers keep their own loops for longer outages.
    return Retry(ExponentialBackoff(cap=2.0, base=0.1), 4)


def _tls(settings: Settings) -> dict[str, Any]:
    """redis-py's TLS options from settings (CA bundle, client certificate, hostname check)."""
    return {
        "ssl_ca_certs": str(settings.redis_tls_ca_file) if settings.redis_tls_ca_file else None,
        "ssl_certfile": str(settings.redis_tls_cert_file) if settings.redis_tls_cert_file else None,
        "ssl_keyfile": str(settings.redis_tls_key_file) if settings.redis_tls_key_file else None,
        "ssl_check_hostname": settings.redis_tls_check_hostname,
        "ssl_cert_reqs": "required",
    }


def _sentinel_address(spec: str) -> tuple[str, int]:
    host, _, port = spec.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"REELSMITH_REDIS_SENTINELS takes host:port entries; {spec!r} is not one")
    return host.strip("[]"), int(port)


def redis_settings(settings: Settings) -> RedisSettings:
    """arq's view of the connection (arq logs it; the pool itself always comes from `connect`)."""
    if settings.redis_sentinels:
        return RedisSettings(host=[_sentinel_address(s) for s in settings.redis_sentinels],  # type: ignore[arg-type]
                             sentinel=True, sentinel_master=settings.redis_sentinel_master,
                             ssl=settings.redis_tls)
    if settings.redis_url is None:
        raise RuntimeError("redis_url is not set; call ensure_redis() first")
    rs = RedisSettings.from_dsn(settings.redis_url.get_secret_value())
    rs.conn_retries = CONN_RETRIES
    rs.conn_retry_delay = int(CONN_RETRY_DELAY_S)
    rs.retry = _retry()
    rs.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    rs.ssl = rs.ssl or settings.redis_tls
    if rs.ssl:
        tls = _tls(settings)
        rs.ssl_ca_certs, rs.ssl_certfile, rs.ssl_keyfile = tls["ssl_ca_certs"], tls["ssl_certfile"], tls["ssl_keyfile"]
        rs.ssl_check_hostname = settings.redis_tls_check_hostname
    if settings.redis_password is not None:
        rs.password = settings.redis_password.get_secret_value()
    return rs


def _sentinel_master(settings: Settings) -> ArqRedis:
    """A client of whichever server the sentinels name master now; it asks them again after a failover."""
    url = urlsplit(settings.redis_url.get_secret_value()) if settings.redis_url else None
    password = (settings.redis_password.get_secret_value() if settings.redis_password
                else unquote(url.password) if url and url.password else None)
    tls = settings.redis_tls or (url is not None and url.scheme == "rediss")
    master: dict[str, Any] = {
        "password": password, "username": unquote(url.username) if url and url.username else None,
        "db": int(url.path.lstrip("/") or 0) if url else 0, "retry": _retry(),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError], "socket_connect_timeout": 2.0,
    }
    sentinel_kwargs: dict[str, Any] = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
    if settings.redis_sentinel_password is not None:
        sentinel_kwargs["password"] = settings.redis_sentinel_password.get_secret_value()
    master["connection_class"] = FollowingSSLConnection if tls else FollowingConnection
    if tls:
        master |= {"ssl": True, **_tls(settings)}
        sentinel_kwargs |= {"ssl": True, **_tls(settings)}
    sentinel = Sentinel([_sentinel_address(s) for s in settings.redis_sentinels], sentinel_kwargs=sentinel_kwargs)
    return sentinel.master_for(settings.redis_sentinel_master, redis_class=ArqRedis, **master)


async def connect(settings: Settings) -> ArqRedis:
    """An arq pool: enqueues jobs and serves as the general async Redis client.

    Jobs and results are JSON (core/queue/job_codec.py), never pickle: writing Redis must not run code anywhere.
    """
    if not settings.redis_sentinels:
        return await create_pool(redis_settings(settings), default_queue_name=settings.queue_name,
                                 job_serializer=job_codec.dumps, job_deserializer=job_codec.loads)
    pool = _sentinel_master(settings)
    pool.job_serializer = job_codec.dumps
    pool.job_deserializer = job_codec.loads
    pool.default_queue_name = settings.queue_name
    for attempt in range(CONN_RETRIES + 1):
        try:
            await pool.ping()
            return pool
        except (TimeoutError, RedisError, OSError) as exc:
            if attempt == CONN_RETRIES:
                raise
            log.warning("redis sentinels %s: no master %r yet (%s); retrying", ", ".join(settings.redis_sentinels),
                        settings.redis_sentinel_master, type(exc).__name__)
            await asyncio.sleep(CONN_RETRY_DELAY_S)
    raise AssertionError("unreachable")


async def replicated(redis: Redis, settings: Settings, what: str) -> None:
    """With `redis_wait_replicas`, wait until that many replicas have every write this process made so far.

    Replication is one ordered stream, so a probe write on any connection followed by WAIT on the same one
    covers the writes before it (whichever pooled connection made them). Too few acknowledgements within
    `redis_wait_timeout_ms` (a replica down) are logged, not refused: the write stands on the master.
    """
    if not settings.redis_wait_replicas:
        return
    async with redis.pipeline(transaction=False) as pipe:
        add_replica_wait(pipe, settings, what)
        _, acked = await pipe.execute()
    enough_replicas(acked, settings, what)


def add_replica_wait(pipe: Pipeline, settings: Settings, what: str) -> None:
    """Queue a probe write and `WAIT` on a pipeline: its last reply is the count of replicas that hold every
    write of the pipeline's connection up to here, reads included (the probe moves the connection's offset past
    whatever it read). For a caller that must know that what it read from the master is on a replica too."""
    pipe.set(settings.key("replication-probe"), what, px=60_000)
    pipe.execute_command("WAIT", settings.redis_wait_replicas, settings.redis_wait_timeout_ms)


def enough_replicas(acked: int, settings: Settings, what: str) -> bool:
    """Whether WAIT's answer meets `redis_wait_replicas`; logs when it does not."""
    if int(acked) >= settings.redis_wait_replicas:
        return True
    log.warning("%s: only %s of %d replicas acknowledged within %d ms; a failover now could lose it",
                what, acked, settings.redis_wait_replicas, settings.redis_wait_timeout_ms)
    return False


def as_text(value: bytes | str | int) -> str:
    """A Redis reply as text: the arq pool answers bytes (job records must stay bytes), so every reader decodes.

    Lua scripts may answer integers too; those come back as their digits."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
