"""Run untrusted work in helper processes that may die: memory, CPU and wall-clock limits, one task each.

A hostile file can at worst take down the helper process that reads it: the caller gets a SandboxError,
the helper is replaced, and the service carries on. Each helper runs one task at a time, so a timeout or a
crash is charged to the task that caused it, never to others running beside it.

Helpers are forked from multiprocessing's fork server, which imports `PRELOAD` once (never torch or an
event loop), so a new helper starts in milliseconds. The pool starts on first use and is shared by every
service and worker in the process (`shared`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import resource
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a helper needs, imported once in the fork server: the decoders, never the models.
PRELOAD = ["av", "core.untrusted"]
TASKS_PER_HELPER = 200  # then a fresh process, so nothing a file left behind (heap, state) lingers


class SandboxError(Exception):
    """The helper could not finish the task within its limits."""


class SandboxTimeout(SandboxError):
    """Past the wall-clock limit: the helper was killed."""


class SandboxCrashed(SandboxError):
    """The helper died (killed by its CPU limit, or a crash in a decoder)."""


class SandboxOutOfMemory(SandboxError):
    """The task needed more memory than the helper may have."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int  # address space a helper may add to its start-up footprint
    cpu_s: int  # CPU seconds per task
    timeout_s: float  # wall clock per task
    workers: int  # helpers running at once (per event loop)


class Sandbox:
    """A small pool of single-task helper processes under `limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._idle: list[ProcessPoolExecutor] = []
        self._lock = threading.Lock()
        # asyncio primitives belong to one loop; tests (and threads) may bring several.
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a helper; its own exceptions come back as they are, limits as SandboxError.

        `fn` and its arguments and result cross the process boundary by pickle: keep them plain data.
        """
        loop = asyncio.get_running_loop()
        async with self._gate(loop):
            helper = self._take()
            future = loop.run_in_executor(helper, _limited_call, self.limits.cpu_s, fn, *args)
            future.add_done_callback(_consume)
            try:
                done, _ = await asyncio.wait({future}, timeout=self.limits.timeout_s)
            except asyncio.CancelledError:
                self._discard(helper)  # nobody wants the answer; do not let the next task queue behind it
                raise
            if not done:
                self._discard(helper)
                raise SandboxTimeout(f"over {self.limits.timeout_s:g} s")
            try:
                result = future.result()
            except BrokenProcessPool:
                self._discard(helper)
                raise SandboxCrashed("the helper process died") from None
            except MemoryError:
                self._release(helper)
                raise SandboxOutOfMemory(f"over {self.limits.memory_mb} MB") from None
            except BaseException:
                self._release(helper)  # the task's own error: the helper is fine
                raise
            self._release(helper)
            return result

    def close(self) -> None:
        """Stop every idle helper (running ones stop when their task ends or is killed)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for helper in idle:
            _kill(helper)

    def _gate(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        with self._lock:
            gate = self._gates.get(loop)
            if gate is None:
                gate = self._gates[loop] = asyncio.Semaphore(self.limits.workers)
            return gate

    def _take(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # used when the fork server starts (once per process)
        return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_limit_helper,
                                   initargs=(self.limits.memory_mb,), max_tasks_per_child=TASKS_PER_HELPER)

    def _release(self, helper: ProcessPoolExecutor) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.limits.workers:
                self._idle.append(helper)
                return
        _kill(helper)

    def _discard(self, helper: ProcessPoolExecutor) -> None:
        log.warning("untrusted-media helper stopped (limits %s)", self.limits)
        _kill(helper)


def _kill(helper: ProcessPoolExecutor) -> None:
    """Kill the helper's process: a pool cannot cancel a task that is running."""
    processes = dict(getattr(helper, "_processes", None) or {})
    for process in processes.values():
        if process.exitcode is None:  # still ours and alive (checked through the fork server's sentinel)
            process.kill()
    helper.shutdown(wait=False, cancel_futures=True)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a task nobody awaits any more (timed out, cancelled), so it is not logged."""
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


def close_all() -> None:
    """Stop every shared sandbox's idle helpers (at shutdown)."""
    with _registry_lock:
        sandboxes = list(_sandboxes.values())
        _sandboxes.clear()
    for sandbox in sandboxes:
        sandbox.close()


# ---- in the helper process -------------------------------------------------------------------
def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_helper(memory_mb: int) -> None:
    """Helper start-up: cap its address space and let nothing it does leave a core file behind."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = _address_space() + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # hard too: the helper cannot lift it


def _limited_call(cpu_s: int, fn: Callable[..., T], *args: Any) -> T:
    """Run one task with `cpu_s` more CPU seconds than the helper has used so far (SIGXCPU kills it past that)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_s
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return fn(*args)
