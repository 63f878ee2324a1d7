"""The arq internals the worker overrides or calls still exist as they were written against.

workers/lease.py, workers/settings.py and workers/wakeup.py subclass arq's Worker and override private
methods (`_poll_iteration`, `start_jobs`, `finish_job`, `finish_failed_job`, `close`, `main`), repeat parts of their
bodies and use its private state (`tasks`, `job_counter`, `sem`, `_pool` ...). An arq upgrade that changes
any of it fails here, naming what to re-check, instead of quietly in production.
"""

from __future__ import annotations

import asyncio
import inspect
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from arq import constants
from arq.worker import Worker
from packaging.requirements import Requirement

from core.settings import Settings
from workers.settings import ReelsmithWorker, build_worker

ROOT = Path(__file__).resolve().parents[1]

# Worker method -> (its parameters, whether it is a coroutine): each is overridden or called by workers/.
METHODS: dict[str, tuple[list[str], bool]] = {
    "_poll_iteration": (["self"], True),  # lease.py: renew leases, survive Redis outages
    "start_jobs": (["self", "job_ids"], True),  # lease.py (never twice at once), settings.py (routing)
    "finish_failed_job": (["self", "job_id", "result_data"], True),  # settings.py: answer unreadable jobs
    "close": (["self"], True),  # settings.py repeats it
    # settings.py: a fenced-off run leaves arq's bookkeeping to the run holding the lease
    "finish_job": (["self", "job_id", "finish", "result_data", "result_timeout_s", "keep_result_forever",
                    "incr_score", "keep_in_progress"], True),
    "main": (["self"], True),  # wakeup.py replaces it
    "handle_sig": (["self", "signum"], False),  # settings.py's close calls it
    "_jobs_started": (["self"], False),  # wakeup.py's burst check
}


def test_pin_matches_the_installed_arq() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(Requirement(d) for d in deps if Requirement(d).name == "arq")
    assert pin.specifier.contains(version("arq")), (pin, version("arq"))
    assert "<" in str(pin.specifier), "arq must be pinned to the tested minor version"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_overridden_and_called_methods_keep_their_signatures(name: str) -> None:
    params, is_coroutine = METHODS[name]
    method = getattr(Worker, name)
    assert list(inspect.signature(method).parameters) == params, f"re-check workers/ overrides of Worker.{name}"
    assert inspect.iscoroutinefunction(method) is is_coroutine, name


async def test_worker_state_the_overrides_use() -> None:
    # Built, never started: nothing connects to this address.
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")
    worker = build_worker(settings, warm=False, handle_signals=False)
    assert isinstance(worker, ReelsmithWorker)
    state: dict[str, Callable[[Any], bool]] = {
        "tasks": lambda v: isinstance(v, dict),
        "job_counter": lambda v: v == 0,
        "sem": lambda v: isinstance(v, asyncio.BoundedSemaphore),
        "in_progress_timeout_s": lambda v: isinstance(v, int | float),
        "_handle_signals": lambda v: v is False,
        "_pool": lambda v: v is None,
        "health_check_key": lambda v: isinstance(v, str),
        "on_shutdown": callable,
        "ctx": lambda v: isinstance(v, dict),
        "burst": lambda v: v is False,
        "max_burst_jobs": lambda v: isinstance(v, int),
        "redis_settings": lambda v: v is not None,
        "job_serializer": callable,
        "job_deserializer": callable,
        "expires_extra_ms": lambda v: isinstance(v, int),
        "queue_name": lambda v: isinstance(v, str),
    }
    wrong = [name for name, ok in state.items() if not hasattr(worker, name) or not ok(getattr(worker, name))]
    assert wrong == []
    assert isinstance(inspect.getattr_static(Worker, "pool"), property)
    # The lease shortens arq's in-progress key to the lease by setting this attribute after arq's __init__.
    assert worker.in_progress_timeout_s == worker.lease_s


def test_key_prefixes_the_workers_use() -> None:
    assert constants.in_progress_key_prefix == "arq:in-progress:"
    assert constants.job_key_prefix == "arq:job:"


def _in_order(method: Callable[..., Any], steps: list[str]) -> list[str]:
    """The steps of `steps` that `method`'s source lacks, or has out of order."""
    source = inspect.getsource(method)
    missing, at = [], 0
    for step in steps:
        found = source.find(step, at)
        if found < 0:
            missing.append(step)
        else:
            at = found + len(step)
    return missing


def test_the_bodies_the_workers_repeat_or_rely_on() -> None:
    # ReelsmithWorker.close repeats arq's close (gathering with return_exceptions): re-check it if this fails.
    assert _in_order(Worker.close, [
        "if not self._handle_signals:", "self.handle_sig(signal.SIGUSR1)", "if not self._pool:",
        "await asyncio.gather(*self.tasks.values())", "await self.pool.delete(self.health_check_key)",
        "await self.on_shutdown(self.ctx)", "await self.pool.close(close_connection_pool=True)",
        "self._pool = None",
    ]) == []
    # WakeupWorker.main repeats arq's start-up, then polls on wake-ups instead of a fixed sleep.
    assert _in_order(Worker.main, [
        "create_pool(", "self.redis_settings", "job_deserializer=self.job_deserializer",
        "job_serializer=self.job_serializer", "default_queue_name=self.queue_name",
        "expires_extra_ms=self.expires_extra_ms", "self.ctx['redis'] = self.pool", "await self.on_startup(self.ctx)",
        "await self._poll_iteration()", "self.max_burst_jobs <= self._jobs_started()",
    ]) == []
    # LeasedWorker.start_jobs gives back the slot arq counted when a claim fails, and lease renewal relies on
    # arq's in-progress key living `in_progress_timeout_s`.
    assert _in_order(Worker.start_jobs, [
        "await self.sem.acquire()", "self.job_counter = self.job_counter + 1",
        "in_progress_key = in_progress_key_prefix + job_id",
        "pipe.psetex(in_progress_key, int(self.in_progress_timeout_s * 1000)", "self.tasks[job_id] = t",
    ]) == []
    # ReelsmithWorker.finish_failed_job answers a job whose record does not decode: arq must still route it there.
    assert _in_order(Worker.run_job, ["self.job_deserializer", "self.finish_failed_job(job_id"]) == []
    # LeasedWorker._poll_iteration wraps arq's, which starts the jobs and reaps finished tasks.
    assert _in_order(Worker._poll_iteration, ["await self.start_jobs(job_ids)", "del self.tasks[job_id]"]) == []
