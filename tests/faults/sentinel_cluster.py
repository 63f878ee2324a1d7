"""A real Redis master, two replicas (as deploy/k8s-sentinel runs them) and three sentinels on loopback, for
failover tests.

Every server is a `redis-server` child with its own generated config in a temporary directory and a free
port; sentinels get short `down-after-milliseconds` and `failover-timeout`, so a killed master is replaced
within seconds, and servers sync a replica at once (no `repl-diskless-sync-delay`, 5 s by default, which
only gathers replicas that connect together). Waits are by condition (the sentinels' answer), bounded.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from core.queue.embedded_redis import _free_port, redis_server_binary

MASTER_NAME = "reelsmith"
MIN_REPLICAS_MAX_LAG_S = 3


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    args: list[str]

    def kill(self) -> None:
        """SIGKILL: no AOF flush, no goodbye to the replicas, like a host that died."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stall(self) -> None:
        """SIGSTOP: the process stops answering but keeps its sockets, like a frozen VM or a long swap stall."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `stall`: it goes on where it stopped, still thinking it is what it was."""
        self.process.send_signal(signal.SIGCONT)


@dataclass
class SentinelCluster:
    root: Path
    replicas: int = 2
    servers: list[Server] = field(default_factory=list)
    sentinels: list[Server] = field(default_factory=list)

    @property
    def sentinel_addresses(self) -> list[str]:
        return [f"127.0.0.1:{s.port}" for s in self.sentinels]

    def _start(self, name: str, config: str, *extra: str) -> Server:
        port = _free_port()
        workdir = self.root / name
        workdir.mkdir(parents=True)
        conf = workdir / "redis.conf"
        conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\nlogfile {workdir / 'log'}\n"
                        f"save \"\"\n{config}")
        args = [redis_server_binary(), str(conf), *extra]
        server = Server(name, port, _spawn(args), args)
        _wait(lambda: _pings(port), f"{name} answering on {port}")
        return server

    def start(self) -> SentinelCluster:
        # As deploy/k8s-sentinel runs them: a master without a replica refuses writes (NOREPLICAS), so a master
        # the sentinels replaced while it was stalled takes no write that its resync would throw away.
        data = ("appendonly yes\nappendfsync everysec\nrepl-diskless-sync-delay 0\n"
                f"min-replicas-to-write 1\nmin-replicas-max-lag {MIN_REPLICAS_MAX_LAG_S}\n")
        master = self._start("master", data)
        self.servers.append(master)
        for i in range(self.replicas):
            replica = self._start(f"replica{i}", f"{data}replicaof 127.0.0.1 {master.port}\n")
            self.servers.append(replica)
            _wait(lambda port=replica.port: _replica_in_sync(port), f"replica{i} in sync")
        for i in range(3):
            self.sentinels.append(self._start(
                f"sentinel{i}",
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 5000\n"
                f"sentinel parallel-syncs {MASTER_NAME} {self.replicas}\n", "--sentinel"))
        _wait(lambda: all(_sentinel_sees_replicas(s.port, self.replicas) for s in self.sentinels),
              "sentinels see the replicas")
        return self

    def master_port(self) -> int | None:
        """The master the sentinels agree on now (None while they do not)."""
        ports = {_sentinel_master_port(s.port) for s in self.sentinels if s.process.poll() is None}
        return ports.pop() if len(ports) == 1 else None

    def server_on(self, port: int) -> Server:
        return next(s for s in self.servers if s.port == port)

    def wait_for_promotion(self, old_port: int, timeout_s: float = 60.0) -> int:
        """Poll the sentinels until they agree on a new master that answers as one; returns its port."""
        def promoted() -> bool:
            port = self.master_port()
            return port is not None and port != old_port and _role(port) == "master"

        _wait(promoted, "a replica promoted", timeout_s)
        port = self.master_port()
        assert port is not None
        return port

    def revive_as_replica(self, server: Server, master_port: int, timeout_s: float = 60.0) -> None:
        """Start a killed server again on its port and data, as a host coming back does, following the master
        promoted meanwhile (what the sentinels would tell it, after their 8 s wait to see it stay up). Returns
        once it is in sync with `master_port`."""
        server.process = _spawn([*server.args, "--replicaof", "127.0.0.1", str(master_port)])

        def following() -> bool:
            try:
                info = replication_info(server.port)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return False
            return info.get("master_port") == master_port and info.get("master_link_status") == "up"

        _wait(following, f"{server.name} back as a replica of {master_port}", timeout_s)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.servers]:
            server.kill()


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(check: object, what: str, timeout_s: float = 30.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s}s: {what}")
        time.sleep(0.05)


def client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=1.0)


def _pings(port: int) -> bool:
    try:
        with client(port) as c:
            return bool(c.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def replication_info(port: int) -> dict[str, object]:
    """The server's `INFO replication` (role, connected_slaves, master_link_status, ...)."""
    with client(port) as c:
        return dict(c.info("replication"))


def _role(port: int) -> str:
    try:
        return str(replication_info(port)["role"])
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return "down"


def _replica_in_sync(port: int) -> bool:
    return replication_info(port).get("master_link_status") == "up"


def _sentinel_sees_replicas(port: int, count: int) -> bool:
    with client(port) as c:
        return len(c.execute_command("SENTINEL", "REPLICAS", MASTER_NAME)) >= count


def _sentinel_master_port(port: int) -> int | None:
    try:
        with client(port) as c:
            addr = c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return None
    return int(addr[1]) if addr else None
