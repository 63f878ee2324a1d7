"""The embedded Redis of a `reelsmith` process killed with SIGKILL outlives it, holding the data dir: the next
process adopts it (and stops it on exit, as its starter would have) or, if it no longer answers, stops it; never
a second redis-server on the same AOF. Real processes: `reelsmith bot web` with no REDIS_URL."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.queue.embedded_redis import _free_port
from tests.conftest import wait_for
from tests.faults.conftest import Procs


def servers_in(data_dir: Path) -> list[int]:
    """Running (not zombie) redis-server processes working in `data_dir` (a server runs in its --dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"redis-server" not in (proc / "cmdline").read_bytes():
                continue
            if Path(os.readlink(proc / "cwd")) != data_dir.resolve():
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # gone, or a zombie (no cwd)
        if state not in ("Z", "X"):
            found.append(int(proc.name))
    return sorted(found)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    yield path
    for pid in servers_in(path / "redis"):  # whatever a failing test left behind
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _env(data_dir: Path) -> dict[str, str]:
    """`reelsmith bot web` on its own embedded Redis in `data_dir` (no REDIS_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSMITH_") and k != "REDIS_URL"}
    env.update({"REELSMITH_DATA_DIR": str(data_dir), "REELSMITH_WEB_HOST": "127.0.0.1",
                "REELSMITH_WEB_PORT": str(_free_port()), "REELSMITH_WEB_TOKEN": secrets.token_hex(16),
                "REELSMITH_HEALTH_PORT": "0", "PYTHONUNBUFFERED": "1"})
    return env


async def _started_and_killed(procs: Procs, data_dir: Path, env: dict[str, str]) -> int:
    """Start `reelsmith bot web`, SIGKILL it, and return its embedded server's pid (still running)."""
    first = procs.start("first", ["reelsmith.py", "bot", "web"], env)
    await first.wait_log("playground on")
    [server] = servers_in(data_dir / "redis")
    first.kill()
    assert servers_in(data_dir / "redis") == [server]  # a SIGKILL gives the server no goodbye
    return server


async def test_the_next_process_adopts_a_killed_processs_redis_and_stops_it(procs: Procs, data_dir: Path) -> None:
    env = _env(data_dir)
    orphan = await _started_and_killed(procs, data_dir, env)

    second = procs.start("second", ["reelsmith.py", "bot", "web"], env)
    await second.wait_log("playground on")
    assert servers_in(data_dir / "redis") == [orphan]  # the same server, not a second one on the same AOF

    second.popen.terminate()
    assert second.popen.wait(timeout=30) == 0

    async def none_left() -> bool:
        return not servers_in(data_dir / "redis")

    await wait_for(none_left, timeout=15)  # stopped on exit, as the killed process would have stopped it


async def test_a_left_server_that_no_longer_answers_is_stopped_not_doubled(procs: Procs, data_dir: Path) -> None:
    env = _env(data_dir)
    orphan = await _started_and_killed(procs, data_dir, env)
    os.kill(orphan, signal.SIGSTOP)  # hung: holds the data dir, answers nothing

    second = procs.start("second", ["reelsmith.py", "bot", "web"], env)
    await second.wait_log("playground on", timeout=60)
    running = servers_in(data_dir / "redis")
    assert orphan not in running and len(running) == 1, running  # one server per data dir, and not the hung one
    # Woken to act on the SIGTERM, it shut down cleanly rather than being SIGKILLed seconds later.
    log = (data_dir / "redis" / "redis.log").read_text()
    assert any(line.startswith(f"{orphan}:") and "ready to exit" in line for line in log.splitlines()), log
