"""Connections to the master the sentinels name, that leave a deposed master as soon as it refuses writes.

A master the sentinels replaced while it was stalled or cut off (a SIGSTOP, a frozen VM, a spurious failover
under load) goes on answering as master until they turn it into a replica, seconds later. Whatever is written
there meanwhile is thrown away when it resyncs: an accepted job, a charge, a posted reply. The Redis servers
therefore run with `min-replicas-to-write` (docs/high-availability.md): a master without a replica refuses
writes with `NOREPLICAS`. Here that answer is taken like `READONLY` (redis-py's own rule for a master that
came back as a replica): the connection is dropped and the command retried on a new one, which asks the
sentinels for the master again, so a client still holding a connection to the deposed master goes on with
the promoted one instead of failing, and never writes where the write would be lost.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.sentinel import SentinelManagedConnection, SentinelManagedSSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


def refuses_writes(exc: ResponseError) -> bool:
    """Whether an error is a master's `NOREPLICAS` (too few replicas for `min-replicas-to-write`), also when a
    Lua script met it at its first write (then the script wrote nothing)."""
    return "NOREPLICAS" in str(exc)


class FollowingConnection(SentinelManagedConnection):
    """A sentinel-managed connection that treats `NOREPLICAS` as a master to leave (see the module)."""

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except ResponseError as exc:
            if self.connection_pool.is_master and refuses_writes(exc):
                await self.disconnect()
                raise RedisConnectionError(f"the master refused a write ({exc}); asking the sentinels again") from exc
            raise


class FollowingSSLConnection(FollowingConnection, SentinelManagedSSLConnection):
    """`FollowingConnection` over TLS."""
