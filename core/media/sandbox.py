"""Run untrusted work in helper processes that may die: memory, CPU and wall-clock limits, one task at a time.

A hostile file can at worst take down the helper process that reads it: the caller gets a SandboxError,
the helper is replaced, and the service carries on. Each helper runs one task at a time, so a timeout or
a crash is charged to the task that caused it, never to others running beside it.

A helper is `python -m core.media.sandbox`: it imports the decoders (`core.media.untrusted`, never the models or the
service's own entry point), caps its address space, and then runs tasks sent as pickles on stdin. Its
environment holds no secrets (no Redis URL, no bot tokens), and what it sends back is unpickled with an
allow-list of plain result types, so even a helper a file managed to take over cannot hand the service
anything but data. Helpers start on first use and are shared by every service and worker in the process
(`shared`).
"""

from __future__ import annotations

import asyncio
import atexit
import io
import logging
import math
import os
import pickle
import resource
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from core.i18n import current_locale

log = logging.getLogger(__name__)

T = TypeVar("T")

TASKS_PER_HELPER = 200  # then a fresh process, so nothing a file left behind (heap, state) lingers
START_TIMEOUT_S = 60.0  # a helper importing its decoders on a busy machine
_FRAME = struct.Struct(">Q")
_READY = b"ready"
# Environment a helper keeps: enough for Python and FFmpeg, none of the service's configuration or secrets.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "HOME")
# What a helper may send back (anything else in its reply is refused): the plain results and the errors.
_RESULT_TYPES = {
    ("core.media.untrusted", "Checked"), ("core.media.untrusted", "RawFrame"), ("core.media.untrusted", "VerifyMedia"),
    ("core.media.audio", "PcmAudio"), ("core.errors", "MediaError"), ("core.types", "MediaType"),
    ("builtins", "MemoryError"), ("builtins", "RuntimeError"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}


class SandboxError(Exception):
    """The helper could not finish the task within its limits."""


class SandboxTimeout(SandboxError):
    """Past the wall-clock limit: the helper was killed."""


class SandboxCrashed(SandboxError):
    """The helper died (killed by its CPU or memory limit, or a crash in a decoder)."""


class SandboxOutOfMemory(SandboxError):
    """The task needed more memory than a helper may have."""


class SandboxUnavailable(SandboxError):
    """No helper could be started (the machine's fault, not the task's)."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int  # address space a helper may add to its start-up footprint
    cpu_s: int  # CPU seconds per task
    timeout_s: float  # wall clock per task
    workers: int  # helpers running at once (per event loop)


class _Helper:
    """One helper process; its methods block (they run on the sandbox's threads)."""

    def __init__(self, memory_mb: int) -> None:
        self.max_reply = max(64, memory_mb) * 2 * 1024 * 1024  # a helper cannot make more than its memory
        self.tasks = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.media.sandbox", str(memory_mb)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=_helper_env(), start_new_session=True)  # its own session: a Ctrl-C for the service is not its
        self._ready = False

    def wait_ready(self) -> None:
        """Block until the helper has imported its decoders; a helper that dies first is reaped."""
        if self._ready:
            return
        try:
            started = _read_frame(self._stdout, len(_READY)) == _READY
        except (OSError, EOFError, ValueError):
            started = False
        if not started:
            self.kill()
            raise SandboxUnavailable("the helper did not start")
        self._ready = True

    def call(self, cpu_s: int, fn: Callable[..., T], args: tuple[Any, ...], locale: str = "en") -> T:
        """Run `fn(*args)` in the helper, its texts in `locale`; its exception is re-raised here."""
        self.tasks += 1
        self.wait_ready()
        try:
            _write_frame(self._stdin, pickle.dumps((cpu_s, locale, fn, args), protocol=pickle.HIGHEST_PROTOCOL))
            reply = _ResultUnpickler(io.BytesIO(_read_frame(self._stdout, self.max_reply))).load()
        except Exception as exc:  # a dead pipe, or a reply that is not what `serve` sends
            self.kill()
            raise SandboxCrashed(f"the helper died ({type(exc).__name__})") from None
        if not (isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[0], bool)
                and (reply[0] or isinstance(reply[1], BaseException))):
            self.kill()  # not what `serve` sends: whatever runs there is not ours any more
            raise SandboxCrashed("the helper sent a garbled reply")
        ok, value = reply
        if not ok:
            raise value
        return value

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def close(self) -> None:
        """Let an idle helper exit by itself (it stops at the end of its input)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()  # reaps it (or ends one that did not stop) and closes the pipes

    @property
    def usable(self) -> bool:
        return self.proc.poll() is None and self.tasks < TASKS_PER_HELPER

    @property
    def _stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    @property
    def _stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout


class Sandbox:
    """Helper processes under `limits`, at most `limits.workers` busy at once."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._idle: list[_Helper] = []
        self._lock = threading.Lock()
        # Blocking pipe reads run here, not on an event loop's default executor (helpers outlive loops).
        self._threads = ThreadPoolExecutor(max_workers=limits.workers * 2, thread_name_prefix="reelsmith-sandbox")
        # asyncio primitives belong to one loop; tests (and threads) may bring several.
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a helper: its own exceptions come back as they are, broken limits as SandboxError.

        `fn` is sent by reference (a module-level function of a module the helper can import); arguments
        are pickled, and the result must be one of the plain types helpers may send back.
        """
        loop = asyncio.get_running_loop()
        async with self._gate(loop):
            helper = await self._ready_helper(loop)
            # The member's locale goes with the task: a MediaError made in the helper reads in their language
            # (executor threads do not inherit context variables).
            future = loop.run_in_executor(self._threads, helper.call, self.limits.cpu_s, fn, args, current_locale())
            future.add_done_callback(_consume)
            try:
                done, _ = await asyncio.wait({future}, timeout=self.limits.timeout_s)
            except asyncio.CancelledError:
                helper.proc.kill()  # nobody wants the answer; its thread reaps it
                raise
            if not done:
                helper.proc.kill()
                raise SandboxTimeout(f"over {self.limits.timeout_s:g} s")
            try:
                result = future.result()
            except SandboxError:
                raise  # the helper is dead and reaped
            except MemoryError:
                self._release(helper)
                raise SandboxOutOfMemory(f"over {self.limits.memory_mb} MB") from None
            except BaseException:
                self._release(helper)  # the task's own error: the helper is fine
                raise
            self._release(helper)
            return result

    def close(self) -> None:
        """Stop the idle helpers (busy ones end with their task)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.close()

    def _gate(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        with self._lock:
            gate = self._gates.get(loop)
            if gate is None:
                gate = self._gates[loop] = asyncio.Semaphore(self.limits.workers)
            return gate

    async def _ready_helper(self, loop: asyncio.AbstractEventLoop) -> _Helper:
        """An idle helper, or a new one once it has imported its decoders (start-up is not the task's time)."""
        with self._lock:
            while self._idle:
                helper = self._idle.pop()
                if helper.usable:
                    return helper
                self._threads.submit(helper.close)
        helper = _Helper(self.limits.memory_mb)
        start = loop.run_in_executor(self._threads, helper.wait_ready)
        start.add_done_callback(_consume)
        try:
            done, _ = await asyncio.wait({start}, timeout=START_TIMEOUT_S)
        except asyncio.CancelledError:
            helper.proc.kill()  # its thread reaps it
            raise
        if not done or start.exception() is not None:
            helper.proc.kill()
            raise SandboxUnavailable("a helper did not start")
        return helper

    def _release(self, helper: _Helper) -> None:
        with self._lock:
            if helper.usable and len(self._idle) < self.limits.workers:
                self._idle.append(helper)
                return
        self._threads.submit(helper.close)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a call nobody awaits any more (timed out, cancelled), so it is not logged."""
    if not future.cancelled():
        future.exception()


_sandboxes: dict[Limits, Sandbox] = {}
_registry_lock = threading.Lock()


def shared(limits: Limits) -> Sandbox:
    """The process's sandbox for `limits` (created on first use; services and workers share it)."""
    with _registry_lock:
        sandbox = _sandboxes.get(limits)
        if sandbox is None:
            sandbox = _sandboxes[limits] = Sandbox(limits)
        return sandbox


@atexit.register
def close_all() -> None:
    """Stop every shared sandbox's idle helpers (at exit; they would also stop when their input closes)."""
    with _registry_lock:
        sandboxes = list(_sandboxes.values())
        _sandboxes.clear()
    for sandbox in sandboxes:
        sandbox.close()


def _helper_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    # The same code as this process: its import path, not whatever the environment said.
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
    return env


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_frame(stream: IO[bytes], limit: int) -> bytes:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError("the other side closed")
    (size,) = _FRAME.unpack(head)
    if size > limit:
        raise ValueError(f"a {size}-byte message is over the {limit}-byte limit")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed mid-message")
    return data


class _ResultUnpickler(pickle.Unpickler):
    """Unpickles a helper's reply, refusing every type not on the allow-list."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _RESULT_TYPES:
            raise pickle.UnpicklingError(f"a helper may not send {module}.{name}")
        return super().find_class(module, name)


# ---- in the helper process -------------------------------------------------------------------
def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at the start-up footprint plus `memory_mb`, for good (the hard limit too)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed helper leaves no core file
    limit = _address_space() + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _limit_cpu(cpu_s: int) -> None:
    """`cpu_s` more CPU seconds than used so far; past them the kernel's SIGXCPU ends the helper."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_s
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _reply(ok: bool, value: Any) -> bytes:
    media_error = _media_error()
    if not ok and isinstance(value, media_error):
        value = media_error(str(value))  # as the plain type the service's side accepts
    elif not ok and not isinstance(value, MemoryError):
        value = RuntimeError(type(value).__name__)  # other errors' types may not cross: their name does
    try:
        return pickle.dumps((ok, value), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps((False, MemoryError()))
    except Exception as exc:
        return pickle.dumps((False, RuntimeError(f"unsendable result ({type(exc).__name__})")))


def _media_error() -> type[Exception]:
    from core.errors import MediaError

    return MediaError


def serve(memory_mb: int) -> None:
    """The helper's loop: import the decoders, cap memory, then one task after another until input ends."""
    import core.media.untrusted  # noqa: F401  (warm before the cap, so the cap is what decoding may add)
    from core.i18n import SHIPPED, translations, use_locale

    for locale in SHIPPED:
        translations(locale)  # the catalogs, read before the cap too

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the replies
    inp = sys.stdin.buffer
    _limit_memory(memory_mb)
    _write_frame(out, _READY)
    while True:
        try:
            task = _read_frame(inp, 1 << 40)
        except EOFError:
            return
        cpu_s, locale, fn, args = pickle.loads(task)
        _limit_cpu(cpu_s)
        try:
            with use_locale(locale):
                reply = _reply(True, fn(*args))
        except BaseException as exc:
            reply = _reply(False, exc)
        _write_frame(out, reply)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
