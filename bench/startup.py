"""Start-up and model switching with the tiny twins of two catalog entries, on this machine. Prints one run.

    .venv/bin/python bench/startup.py [--models sd,flux] [--rounds 3] [--device cpu]

1. time to first job after worker start: a 1-step job is queued, then `reelsmith worker` starts as its own
   process (interpreter, imports, Redis, loading the catalog's default model from safetensors with
   low_cpu_mem_usage, the job) until its reply is published; done `--rounds` times, medians; and the
   share of that spent importing (a fresh interpreter importing the same modules);
2. cold load in this process: `from_pretrained` of each entry (PipelineSet.get), and its first 1-step job;
3. model switch with room for one model (`REELSMITH_WORKER_MAX_MODELS=1`), end to end through that worker:
   a job on the other entry (evict, load, render) vs a job on the model already warm; medians of `--rounds`.

Twins are built before anything is timed (a real deployment has its checkpoints on disk). On a GPU machine,
`--device cuda` times the same with the twins there; full-size start-up is `bench/gpu_arch.py`'s last line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.generation.pipeline import PipelineSet  # noqa: E402
from core.generation.twins import build_twin, twins  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.service.facade import Reelsmith  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationRequest, JobKind, Requester  # noqa: E402

WHO = Requester(platform="web", user_id="bench", chat_id="bench")


def models_file(path: Path, names: list[str]) -> Path:
    rows = [f'[defaults]\ntext-to-image = "{names[0]}"\n']
    specs = twins()
    rows += [f'[[model]]\nname = "{n}"\nsource = "twin:{n}"\nfamily = "{specs[n].family}"\nkind = "{specs[n].kind}"\n'
             for n in names]
    path.write_text("\n".join(rows))
    return path


def worker_env(settings: Settings, device: str) -> dict[str, str]:
    assert settings.redis_url is not None and settings.models_file is not None
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(settings.data_dir),
        "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "REELSMITH_KEY_PREFIX": settings.key_prefix, "REELSMITH_QUEUE_NAME": settings.queue_name,
        "REELSMITH_TINY_MODELS_DIR": str(settings.tiny_models_dir), "REELSMITH_DATA_DIR": str(settings.data_dir),
        "REELSMITH_MODELS_FILE": str(settings.models_file), "REELSMITH_WORKER_MAX_MODELS": "1",
        "REELSMITH_HEALTH_PORT": "0", "REELSMITH_QUOTA_ENABLED": "false", "REELSMITH_DEVICE": device,
        "REELSMITH_WORKER_NAME": "bench-startup",
    }


async def reply_after(service: Reelsmith, text: str) -> float:
    """Seconds from queueing `text` to its reply being recorded."""
    t = time.perf_counter()
    out = await service.handle(WHO, text)
    assert out.ok and out.job_id, out.text
    while (reply := await service.queue.load_reply(out.job_id)) is None:
        await asyncio.sleep(0.005)
    assert reply.error is None, reply.error
    return time.perf_counter() - t


async def through_worker(settings: Settings, names: list[str], rounds: int, device: str,
                         log: Path) -> dict[str, list[float]]:
    redis = await connect(settings)
    service = Reelsmith(settings, redis)
    out: dict[str, list[float]] = {"first": [], "switch": [], "warm": []}
    try:
        for r in range(rounds):
            t = time.perf_counter()
            job = await service.handle(WHO, f"/imagine a fox --steps 1 --seed {r}")
            assert job.ok and job.job_id, job.text
            with log.open("ab") as sink:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, str(ROOT / "reelsmith.py"), "worker", cwd=ROOT, env=worker_env(settings, device),
                    stdout=sink, stderr=subprocess.STDOUT)
            try:
                while (reply := await service.queue.load_reply(job.job_id)) is None:
                    if proc.returncode is not None:
                        raise SystemExit(f"worker exited {proc.returncode}; see {log}")
                    await asyncio.sleep(0.005)
                assert reply.error is None, reply.error
                out["first"].append(time.perf_counter() - t)
                if r == rounds - 1:  # the same worker then switches back and forth
                    for i in range(rounds):
                        out["switch"].append(await reply_after(service, f"/imagine a fox --steps 1 --seed {i} "
                                                                        f"--model {names[1 - i % 2]}"))
                        out["warm"].append(await reply_after(service, f"/imagine a fox --steps 1 --seed {i} "
                                                                      f"--model {names[1 - i % 2]}"))
            finally:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 60)
    finally:
        await redis.aclose()
    return out


def import_seconds(rounds: int) -> float:
    """Median seconds for a fresh interpreter to import what a worker imports before it loads anything."""
    code = "import reelsmith, workers.settings, core.generation.pipeline, torch, diffusers, transformers"
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
                       check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_process(settings: Settings, names: list[str]) -> dict[str, tuple[float, float]]:
    """Cold `from_pretrained` and the first 1-step job of each entry, in a fresh PipelineSet each."""
    out = {}
    for name in names:
        pipes = PipelineSet(settings.model_copy(update={"worker_max_models": 1}))
        t = time.perf_counter()
        pipes.get(JobKind.IMAGE, name)
        load = time.perf_counter() - t
        entry = pipes.entry_for(JobKind.IMAGE, name)
        req = GenerationRequest(requester=WHO, kind=JobKind.IMAGE, prompt="a fox", width=64, height=64, seed=1,
                                steps=1, model=entry.name)
        t = time.perf_counter()
        pipes.generate(req, [])
        out[name] = (load, time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="sd,flux", help="two twins (catalog entries twin:<name>)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    names = [n.strip() for n in args.models.split(",")][:2]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        tiny = tmp / "tiny"
        for name in names:
            build_twin(tiny, name)
        server = EmbeddedRedis(tmp / "redis", appendonly=False).start()
        try:
            settings = Settings(_env_file=None, redis_url=server.url, tiny_models_dir=tiny, data_dir=tmp,
                                models_file=models_file(tmp / "models.toml", names), quota_enabled=False,
                                device=args.device, key_prefix="bs", queue_name="bs:queue")
            imports = import_seconds(args.rounds)
            loads = in_process(settings, names)
            e2e = asyncio.run(through_worker(settings, names, args.rounds, args.device, tmp / "worker.log"))
        finally:
            server.stop()
    med: dict[str, Any] = {k: statistics.median(v) for k, v in e2e.items()}
    print(f"start-up and switching, {time.strftime('%Y-%m-%d')}, device {args.device}, twins {names[0]} and "
          f"{names[1]}, medians of {args.rounds}")
    print("| measure | seconds |\n| --- | --- |")
    print(f"| worker process start -> first job's reply ({names[0]}, 1 step) | {med['first']:.2f} |")
    print(f"| of which: a fresh interpreter importing the worker's modules (torch, diffusers ...) | {imports:.2f} |")
    for name, (load, job) in loads.items():
        print(f"| cold from_pretrained of {name} (safetensors, low_cpu_mem_usage), in process | {load:.2f} |")
        print(f"| its first 1-step job | {job:.3f} |")
    print(f"| job on the other model, worker_max_models=1 (evict + load + job), end to end | {med['switch']:.2f} |")
    print(f"| job on the warm model, end to end | {med['warm']:.3f} |")
    print(f"| switch cost (difference) | {med['switch'] - med['warm']:.2f} |")


if __name__ == "__main__":
    main()
