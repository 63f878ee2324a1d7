"""Hosts on a private network, made of Linux network namespaces, for partition tests (needs root).

Each host is a namespace with one veth pair whose other end hangs on a bridge in the root namespace; the
bridge itself has the last address, so the test process can reach every host. Cutting a host's link sets
its bridge-side end down: its packets vanish (no reset, no error), like a pulled cable or a dead switch port,
and its TCP connections resume when the link comes back. `down()` removes everything, also after a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "network-partition tests need root (ip netns); CI runs them as root"
    if shutil.which("ip") is None:
        return "network-partition tests need iproute2's `ip`"
    probe = f"rsprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed here ({made.stderr.strip()}); network-partition tests skipped"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Network:
    """`hosts` by name (one letter); their addresses are 10.<a>.<b>.1, .2, ... in hosts' order."""

    hosts: list[str]
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    subnet: str = field(default_factory=lambda: f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}")
    made: list[str] = field(default_factory=list)

    def ns(self, host: str) -> str:
        return f"rs{self.tag}{host}"

    def address(self, host: str) -> str:
        return f"{self.subnet}.{self.hosts.index(host) + 1}"

    def _bridge_end(self, host: str) -> str:
        return f"rs{self.tag}{host}h"

    @property
    def bridge(self) -> str:
        return f"rs{self.tag}br"

    def up(self) -> Network:
        _ip("link", "add", self.bridge, "type", "bridge")
        self.made.append("bridge")
        _ip("addr", "add", f"{self.subnet}.254/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for host in self.hosts:
            ns, outer, inner = self.ns(host), self._bridge_end(host), f"rs{self.tag}{host}n"
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", ns)
            _ip("link", "set", outer, "master", self.bridge)
            _ip("link", "set", outer, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", inner)
            _ip("-n", ns, "link", "set", inner, "up")
        return self

    def cut(self, host: str) -> None:
        """Pull the host's cable: its packets are dropped until `restore`."""
        _ip("link", "set", self._bridge_end(host), "down")

    def restore(self, host: str) -> None:
        _ip("link", "set", self._bridge_end(host), "up")

    def command(self, host: str, args: list[str]) -> list[str]:
        """`args` run on `host` (ip netns exec replaces itself with the command: the pid is the command's)."""
        return ["ip", "netns", "exec", self.ns(host), *args]

    def down(self) -> None:
        for name in reversed(self.made):
            if name == "bridge":
                subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
            else:  # its veth ends go with it
                subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made.clear()


def start_redis(net: Network, host: str, workdir: Path) -> subprocess.Popen[bytes]:
    """redis-server on `host`, listening on its private address only."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "redis.conf"
    conf.write_text(f"port 6379\nbind {net.address(host)}\nprotected-mode no\ndir {workdir}\n"
                    f"logfile {workdir / 'log'}\nappendonly yes\nappendfsync everysec\nsave \"\"\n")
    return subprocess.Popen(net.command(host, ["redis-server", str(conf)]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
