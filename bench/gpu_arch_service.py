"""The GPU bench's service measurements: overhead through the real service path, start-up and model switch.

Overhead: the bench's already-built pipeline is served under a catalog entry (an in-memory `PipelineSet`, so a
12B model is not written to disk and read back just for this), an in-process arq worker runs jobs from an
embedded Redis, and the same request is timed alternately as a bare `PipelineSet.generate` on the worker's
accelerator thread and end to end (`Reelsmith.handle` -> queue -> worker -> labelling, encoding -> reply).

Start-up and switch: architectures are saved with `save_pretrained` (safetensors) and loaded back the way a
worker loads them (`from_pretrained`: safetensors mmap, low_cpu_mem_usage), in a `PipelineSet` holding one model.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from math import gcd
from pathlib import Path
from typing import Any

from core.generation.pipeline import PipelineSet
from core.models.catalog import ModelEntry
from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.service.facade import Reelsmith
from core.service.grammar import parse_command
from core.service.requests import build_request
from core.settings import Settings
from core.types import JobKind, Requester

WHO = Requester(platform="web", user_id="bench", chat_id="bench")


class InMemoryPipelines(PipelineSet):
    """A PipelineSet whose models are pipelines already built in this process (by catalog name)."""

    def __init__(self, settings: Settings, built: dict[str, Any]) -> None:
        super().__init__(settings)
        self.built = built

    def _base(self, entry: ModelEntry) -> Any:
        if entry.name in self.built and entry.name not in self._bases:
            self._bases[entry.name] = self.built[entry.name]
            self._bytes[entry.name] = 0
            self.sources[entry.name] = "in-memory"
        return super()._base(entry)


def models_toml(rows: list[dict[str, Any]]) -> str:
    """A models file (REELSMITH_MODELS_FILE) for `rows` of name/source/family/kind and optional defaults."""
    out = []
    for row in rows:
        out.append("[[model]]")
        out += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in row.items()]
        out.append("")
    return "\n".join(out).replace("'", '"')


def command(workload: Any, steps: int, seed: int) -> str:
    """The chat command asking for the workload's size, length and `steps` steps."""
    g = gcd(workload.width, workload.height)
    flags = f"--ar {workload.width // g}:{workload.height // g} --steps {steps} --seed {seed}"
    if workload.is_video:
        return f"/video a red fox in the snow {flags} --frames {workload.frames}"
    return f"/imagine a red fox in the snow {flags}"


def bench_sizes(workload: Any) -> dict[str, int]:
    """The base-size setting that makes the service render the workload's size."""
    size = max(workload.width, workload.height)
    return dict(video_base_size=size) if workload.is_video else dict(image_base_size=size)


def bench_settings(tmp: Path, redis_url: str, workload: Any, device: str, dtype: str, **extra: Any) -> Settings:
    sizes = bench_sizes(workload)
    return Settings(_env_file=None, redis_url=redis_url, data_dir=tmp, tiny_models_dir=tmp / "tiny",
                    device=device, dtype=dtype, quota_enabled=False, progress_min_interval_s=1.0,
                    key_prefix=f"g-{workload.name}", queue_name=f"g-{workload.name}:queue", **sizes, **extra)


async def _overhead(settings: Settings, pipes: PipelineSet, workload: Any, steps: int, runs: int) -> dict[str, Any]:
    from workers.settings import build_worker

    redis = await connect(settings)
    service = Reelsmith(settings, redis)
    worker = build_worker(settings, warm=False, pipelines=pipes, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        while "runtime" not in worker.ctx:
            await asyncio.sleep(0.01)
        gpu = worker.ctx["runtime"].gpu
        loop = asyncio.get_running_loop()
        bare: list[float] = []
        e2e: list[float] = []
        size = ""
        for i in range(runs + 1):  # round 0 warms both paths
            text = command(workload, steps, i)
            request = service.build_request(service.parse(text), WHO, [], seed=i)
            size = f"{request.width}x{request.height}" + (f"x{request.num_frames}" if workload.is_video else "")
            t = time.perf_counter()
            await loop.run_in_executor(gpu, pipes.generate, request, [])
            if i:
                bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            outcome = await service.handle(WHO, text)
            if outcome.job_id is None:
                raise RuntimeError(f"the service refused the bench's request {text!r}: {outcome}")
            poll_s = max(0.002, (statistics.median(bare) if bare else 0.05) / 500)
            while (reply := await service.queue.load_reply(outcome.job_id)) is None:
                await asyncio.sleep(poll_s)
            if getattr(reply, "error", None):
                raise RuntimeError(f"the bench's job failed: {reply.error}")
            if i:
                e2e.append(time.perf_counter() - t)
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await redis.aclose()
    b, e = statistics.median(bare), statistics.median(e2e)
    return {"bare_s": b, "e2e_s": e, "ratio": e / b, "size": size, "steps": steps}


def overhead(tmp: Path, pipe: Any, workload: Any, steps: int, runs: int, device: str, dtype: str) -> dict[str, Any]:
    """Median end-to-end / bare time of the same request on `pipe`, served as a catalog model."""
    from gpu_arch_models import FAMILY

    family, kind = FAMILY[workload.arch]
    folder = tmp / f"ovh-{workload.name}"
    folder.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = dict(name=workload.name, source=str(folder / "in-memory"), family=family, kind=kind)
    if workload.guidance is not None:
        row["guidance"] = float(workload.guidance)
    (folder / "models.toml").write_text(models_toml([row]))
    server = EmbeddedRedis(folder / "redis", appendonly=False).start()
    try:
        settings = bench_settings(folder, server.url, workload, device, dtype, models_file=folder / "models.toml")
        pipes = InMemoryPipelines(settings, {workload.name: pipe})
        return asyncio.run(_overhead(settings, pipes, workload, steps, runs))
    finally:
        server.stop()


def startup_and_switch(tmp: Path, saved: dict[str, tuple[Any, Path]], device: str, dtype: str) -> dict[str, float]:
    """Seconds to the first job from a cold PipelineSet (load + one 1-step job), then to switch to the second
    model and back with room for one model (`worker_max_models=1`). `saved`: name -> (workload, folder)."""
    from gpu_arch_models import FAMILY

    (first, (w1, _)), (second, (w2, _)) = list(saved.items())[:2]
    rows = [dict(name=name, source=str(path), family=FAMILY[w.arch][0], kind=FAMILY[w.arch][1])
            for name, (w, path) in saved.items()]
    (tmp / "startup.toml").write_text(models_toml(rows))
    settings = bench_settings(tmp, "redis://unused", w1, device, dtype, models_file=tmp / "startup.toml",
                              worker_max_models=1)

    def request(workload: Any, name: str) -> Any:  # what the service would queue (no Redis needed)
        s = settings.model_copy(update=bench_sizes(workload))
        parsed = parse_command(command(workload, 1, 0) + f" --model {name}", max_steps=s.max_steps,
                               max_frames=s.max_frames)
        return build_request(s, parsed, WHO, [], seed=0)

    sync = _sync(device)
    t = time.perf_counter()
    pipes = PipelineSet(settings)
    pipes.warm_up(models=(first,))
    pipes.generate(request(w1, first), [])
    sync()
    out = {"first_job_s": time.perf_counter() - t}
    for label, (name, w) in (("switch_s", (second, w2)), ("switch_back_s", (first, w1))):
        t = time.perf_counter()
        pipes.get(JobKind.VIDEO if w.is_video else JobKind.IMAGE, name)
        sync()
        out[label] = time.perf_counter() - t
    out["evictions"] = float(pipes.evictions)
    return out


def _sync(device: str) -> Any:
    import torch

    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
