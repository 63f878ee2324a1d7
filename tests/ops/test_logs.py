"""Structured logs: JSON lines, and the job id on every line logged while a job runs, threads included."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

from PIL import Image

from core.ops.logs import ContextThreadPoolExecutor, JsonFormatter, bind_job_id, make_handler
from core.service.facade import Reelsmith
from core.types import GenerationRequest
from tests.conftest import wait_for

log = logging.getLogger("tests.ops.joblog")


def test_json_formatter_writes_one_object_per_line() -> None:
    stream = io.StringIO()
    handler = make_handler("json")
    handler.setStream(stream)  # type: ignore[attr-defined]
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        async def in_a_job() -> None:
            bind_job_id("abc123")
            logger.info("rendering %s", "fox")

        asyncio.run(in_a_job())
        logger.info("outside")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "rendering fox" and first["job_id"] == "abc123" and first["level"] == "INFO"
    assert first["logger"] == "tests.ops.json" and first["ts"].endswith("Z")
    assert "job_id" not in second  # the binding ended with the task that ran the job
    assert "ValueError: boom" in third["exc"]


def test_context_pool_carries_the_job_id_into_threads() -> None:
    seen: list[str] = []
    formatter = JsonFormatter()

    def work() -> None:
        seen.append(json.loads(formatter.format(logging.LogRecord("x", 20, "", 0, "in thread", None, None)))
                    .get("job_id", ""))

    async def job() -> None:
        bind_job_id("job42")
        with ContextThreadPoolExecutor(max_workers=1) as pool:
            await asyncio.get_running_loop().run_in_executor(pool, work)

    asyncio.run(job())
    assert seen == ["job42"]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({**json.loads(self.format(record)), "thread": record.threadName})


async def test_every_line_of_a_real_job_carries_its_id(service: Reelsmith, worker: Any) -> None:
    runtime = await wait_for(lambda: _runtime(worker))

    def noisy_postprocessor(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        log.info("postprocessing %d frames", len(frames))  # runs on an encoder thread
        return frames

    runtime.postprocessors.append(noisy_postprocessor)
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        outcome = await service.submit(_requester(), "/imagine a logged fox")
        assert outcome.job_id
        await wait_for(lambda: _state_is(service, outcome.job_id or "", "done"))
        await wait_for(lambda: _has(capture, "on "))  # the finalizer's summary line
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
        runtime.postprocessors.remove(noisy_postprocessor)
    job_lines = [r for r in capture.records if r.get("job_id") == outcome.job_id]
    threads = {r["thread"] for r in job_lines}
    assert any(r["msg"] == "postprocessing 1 frames" for r in job_lines)
    assert any(t.startswith("reelsmith-encode") for t in threads)
    assert any(r["logger"] == "core.ops.metrics" and r["msg"].startswith(f"job {outcome.job_id} done")
               for r in job_lines)
    # Nothing logged about this job went out without its id (arq's own per-job lines are silenced by
    # setup_logging; the bot side logs "queued job" before any worker has the job).
    untagged = [r for r in capture.records if outcome.job_id in r["msg"] and r.get("job_id") != outcome.job_id
                and r["logger"] not in ("arq.worker", "core.service.facade")]
    assert untagged == []


async def _runtime(worker: Any) -> Any:
    return worker.ctx.get("runtime")


async def _state_is(service: Reelsmith, job_id: str, state: str) -> bool:
    return await service.queue.state(job_id) == state


async def _has(capture: Capture, text: str) -> bool:
    return any(text in r["msg"] for r in capture.records)


def _requester() -> Any:
    from core.types import Requester

    return Requester(platform="web", user_id="logs", chat_id="logs")
