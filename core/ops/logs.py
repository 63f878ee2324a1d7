"""Process logging: text or one JSON object per line, with the running job's id on every line of a job.

The job id travels in a context variable. arq runs each job in its own asyncio task (a copy of the
context), so binding it at the start of a job scopes it to that job; `ContextThreadPoolExecutor`
carries it into the GPU and encoder threads, whose log lines would otherwise lose it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

current_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("reelsmith_job_id", default="")

P = ParamSpec("P")
T = TypeVar("T")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(job_tag)s: %(message)s"
QUIET_LOGGERS = ("httpx", "diffusers", "transformers", "arq.worker")


def bind_job_id(job_id: str) -> None:
    """Tag every log line of the current task (and threads it hands work to) with `job_id`."""
    current_job_id.set(job_id)


class JobIdFilter(logging.Filter):
    """Adds `job_id` (and `job_tag`, " [job …]" or "") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id = getattr(record, "job_id", None) or current_job_id.get()
        record.job_id = job_id
        record.job_tag = f" [job {job_id}]" if job_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, job_id (when in a job), exc (when raised)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        job_id = getattr(record, "job_id", "") or current_job_id.get()
        if job_id:
            data["job_id"] = job_id
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def make_handler(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once per process (replaces earlier handlers)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool that runs each task in a copy of the submitter's context (job id included)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)  # type: ignore[arg-type]
