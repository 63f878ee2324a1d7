"""GPU bench on full-size architectures with random weights (no download): seconds and peak VRAM per model.

    .venv/bin/python bench/gpu_arch.py [--models sdxl,flux-dev,...] [--out table.md]   # a CUDA GPU, ~10 min
    .venv/bin/python bench/gpu_arch.py --smoke                                           # same code, tiny, CPU

For each workload (bench/gpu_arch_models.py: SDXL 1024^2/30 steps CFG, SDXL-Turbo 512^2/1 step, FLUX.1 1024^2/28
and /4 steps, LTX-Video 2B 768x512x121, Wan 2.1 1.3B 832x480x81) it times steady-state calls (warm-up 1, then
--runs) in bf16 with SDPA: eager, torch.compile, torchao fp8 dynamic quantisation + compile (where torchao and an
sm89+ GPU are there), batch 1 vs 4 images/s, and the service overhead ratio (bench/gpu_arch_service.py). Long
runs are cut to --max-steps measured steps and extrapolated with the median step time (marked ~); the step time
is in the table. First Block Cache (--cache) runs but is not a measurement: with random weights the cache's
skip decisions mean nothing. Then start-up (cold load + first job) and a model switch, from safetensors.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpu_arch_models as models  # noqa: E402
import gpu_arch_service as service  # noqa: E402

PEAK_BF16_TFLOPS = 989.4  # H100/H200 SXM dense bf16 (NVIDIA datasheets); the floor is steps x FLOPs / this
NOT_MEASURED = "not measured: random weights"


@dataclass
class Measure:
    seconds: float  # per call (an image batch or a clip), extrapolated to the workload's steps if cut
    per_step: float | None
    peak_gib: float
    extrapolated: bool

    def cell(self) -> str:
        return f"{'~' if self.extrapolated else ''}{self.seconds:.3f}"


@dataclass
class Row:
    workload: models.Workload
    eager: Measure | None = None
    compiled: Measure | None = None
    fp8: Measure | None = None
    batch4: Measure | None = None
    cache: Measure | None = None
    overhead: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _sync(device: str) -> Any:
    import torch

    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def measure(pipe: Any, w: models.Workload, device: str, runs: int, max_steps: int, batch: int = 1) -> Measure:
    """Warm-up once, then `runs` timed calls of at most `max_steps` steps; the median, extrapolated by the
    median step time to the workload's steps when cut."""
    import torch

    sync = _sync(device)
    steps = min(w.steps, max(2, max_steps))
    totals: list[float] = []
    intervals: list[float] = []

    def once() -> tuple[float, list[float]]:
        marks: list[float] = []

        def on_step(_pipe: Any, _i: int, _t: Any, _kw: dict[str, Any]) -> dict[str, Any]:
            sync()
            marks.append(time.perf_counter())
            return {}

        sync()
        start = time.perf_counter()
        with torch.inference_mode():
            pipe(**w.call(batch, steps), callback_on_step_end=on_step)
        sync()
        return time.perf_counter() - start, [b - a for a, b in zip(marks, marks[1:], strict=False)]

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    once()
    for _ in range(runs):
        total, diffs = once()
        totals.append(total)
        intervals += diffs
    total = statistics.median(totals)
    per_step = statistics.median(intervals) if intervals else None
    cut = steps < w.steps and per_step is not None
    seconds = total + (w.steps - steps) * per_step if cut and per_step is not None else total
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else float("nan")
    return Measure(seconds, per_step, peak, cut)


def denoiser_name(pipe: Any) -> str:
    return "unet" if getattr(pipe, "unet", None) is not None else "transformer"


def compiled(pipe: Any, mode: str, backend: str) -> Any:
    """Swap the denoiser for its torch.compile'd self (as core.generation.placement does); returns the original."""
    import torch

    name = denoiser_name(pipe)
    original = getattr(pipe, name)
    setattr(pipe, name, torch.compile(original, mode=None if mode == "default" else mode, backend=backend))
    return original


def fp8_problem(device: str) -> str | None:
    """Why fp8 dynamic quantisation cannot run here, or None."""
    import torch

    try:
        import torchao.quantization  # noqa: F401
    except ImportError:
        return "fp8: torchao not installed"
    if not device.startswith("cuda") or torch.cuda.get_device_capability() < (8, 9):
        return "fp8: needs an sm89+ CUDA GPU (Ada, Hopper)"
    return None


def quantize_fp8(module: Any) -> None:
    """torchao fp8 dynamic activation + fp8 weight quantisation of every Linear, in place (per-row scales)."""
    from torchao.quantization import quantize_

    try:
        from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow

        quantize_(module, Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()))
    except ImportError:  # torchao < 0.10 spells it as a function
        from torchao.quantization import float8_dynamic_activation_float8_weight

        quantize_(module, float8_dynamic_activation_float8_weight())


def bench_arch(arch: str, rows: list[Row], args: argparse.Namespace, device: str, dtype: Any, tmp: Path,
               saved: dict[str, tuple[models.Workload, Path]]) -> None:
    import torch

    t = time.perf_counter()
    pipe = models.build(arch, args.smoke, device, dtype)
    log(f"{arch}: built in {time.perf_counter() - t:.1f} s")
    run = dict(device=device, runs=args.runs, max_steps=args.max_steps)
    for row in rows:
        w = row.workload
        row.eager = measure(pipe, w, **run)
        log(f"{w.name}: eager {row.eager.cell()} s")
        if not w.is_video and not args.no_batch:
            row.batch4 = measure(pipe, w, batch=4, **run)
        denoiser = getattr(pipe, denoiser_name(pipe))
        if args.cache and hasattr(denoiser, "enable_cache") and denoiser_name(pipe) == "transformer":
            from diffusers import FirstBlockCacheConfig

            try:
                denoiser.enable_cache(FirstBlockCacheConfig(threshold=0.2))
            except (IndexError, ValueError, TypeError) as exc:  # e.g. a one-block smoke transformer
                row.notes.append(f"FBC: could not be applied ({type(exc).__name__}: {exc})")
            else:
                try:
                    row.cache = measure(pipe, w, **run)
                finally:
                    denoiser.disable_cache()
        if not args.no_overhead:
            steps = min(w.steps, max(2, args.max_steps)) if w.steps > 1 else 1
            row.overhead = service.overhead(tmp, pipe, w, steps, args.runs, device, args.dtype_name)
            log(f"{w.name}: overhead {row.overhead['ratio']:.3f}")
    if arch in {saved_w.arch for saved_w in args.startup_workloads}:
        folder = tmp / f"saved-{arch}"
        pipe.save_pretrained(str(folder))  # safetensors, as checkpoints ship
        saved.update({w.name: (w, folder) for w in args.startup_workloads if w.arch == arch})
    if rows and not args.no_compile:
        original = compiled(pipe, args.compile_mode, args.compile_backend)
        try:
            for row in rows:
                row.compiled = measure(pipe, row.workload, **run)
                log(f"{row.workload.name}: compiled {row.compiled.cell()} s")
        finally:
            setattr(pipe, denoiser_name(pipe), original)
            torch._dynamo.reset()
    problem = fp8_problem(device) if not args.no_fp8 else "fp8: --no-fp8"
    if problem is None and rows:
        quantize_fp8(getattr(pipe, denoiser_name(pipe)))  # last: it cannot be undone
        compiled(pipe, args.compile_mode, args.compile_backend)
        for row in rows:
            row.fp8 = measure(pipe, row.workload, **run)
        torch._dynamo.reset()
    elif rows:
        rows[0].notes.append(problem)
    del pipe
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


_START = time.perf_counter()


def log(message: str) -> None:
    print(f"[gpu_arch {time.perf_counter() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)


COLUMNS = ("model", "size", "steps", "eager s", "s/step", "peak GiB", "compiled s", "fp8+compile s",
           "img/s b1", "img/s b4", "FBC s", "overhead", "anchor")


def table(rows: list[Row], title: str, startup: dict[str, float] | None, startup_names: list[str]) -> str:
    def s(m: Measure | None) -> str:
        return m.cell() if m is not None else "-"

    lines = [title, "", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    notes: list[str] = []
    for r in rows:
        w, e = r.workload, r.eager
        size = f"{w.width}x{w.height}" + (f"x{w.frames}" if w.is_video else "")
        b1 = f"{1 / e.seconds:.2f}" if e and not w.is_video else "-"
        b4 = f"{4 / r.batch4.seconds:.2f}" if r.batch4 else "-"
        fbc = f"{s(r.cache)}†" if r.cache else "-"
        ovh = f"{r.overhead['ratio']:.3f}" if r.overhead else "-"
        peak = f"{e.peak_gib:.1f}" if e and e.peak_gib == e.peak_gib else "-"  # nan on the CPU
        cells = [w.name, size, str(w.steps), s(e), f"{e.per_step:.4f}" if e and e.per_step else "-",
                 peak, s(r.compiled), s(r.fp8), b1, b4, fbc, ovh, w.anchor or "-"]
        lines.append("| " + " | ".join(cells) + " |")
        if w.arch == "flux" and e is not None:
            flops = models.flux_step_flops(FLUX_CFG[0], w.width, w.height, w.extra.get("max_sequence_length", 512),
                                           FLUX_CFG[1])
            floor = w.steps * flops / (PEAK_BF16_TFLOPS * 1e12)
            parts = [f"eager {floor / e.seconds:.0%}"] + ([f"compiled {floor / r.compiled.seconds:.0%}"]
                                                          if r.compiled else [])
            notes.append(f"{w.name}: {flops / 1e12:.3g} TFLOP/step; floor {floor:.3g} s at {PEAK_BF16_TFLOPS} "
                         f"TFLOP/s; {', '.join(parts)} of the floor (goal: compiled >= 45%)")
        if r.overhead:
            o = r.overhead
            notes.append(f"{w.name}: overhead = end-to-end {o['e2e_s']:.3f} s / bare {o['bare_s']:.3f} s "
                         f"({o['size']}, {o['steps']} steps, medians)")
        notes += [f"{w.name}: {n}" for n in r.notes]
    notes.append("~: extrapolated from the measured steps with the median step time. †FBC (First Block Cache, "
                 f"threshold 0.2): {NOT_MEASURED} (its skips depend on the weights).")
    if startup:
        notes.append(f"start-up ({startup_names[0]}, from safetensors): cold load + first 1-step job "
                     f"{startup['first_job_s']:.2f} s; switch to {startup_names[1]} {startup['switch_s']:.2f} s, "
                     f"back {startup['switch_back_s']:.2f} s (worker_max_models=1, "
                     f"{int(startup['evictions'])} evictions)")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"


FLUX_CFG: tuple[dict[str, Any], int] = (models.FULL["flux"]["transformer"], 8)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (checks the code, not speed)")
    p.add_argument("--models", default="", help="comma-separated workload or architecture names (default: all)")
    p.add_argument("--out", type=Path, help="also write the markdown table here")
    p.add_argument("--runs", type=int, default=2, help="timed runs after the warm-up")
    p.add_argument("--max-steps", type=int, default=10, help="steps actually run per call (the rest extrapolated)")
    p.add_argument("--compile-mode", default="default",
                   help="torch.compile mode (the service's REELSMITH_TORCH_COMPILE uses max-autotune-no-cudagraphs)")
    p.add_argument("--compile-backend", default="inductor")
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--no-fp8", action="store_true")
    p.add_argument("--no-batch", action="store_true")
    p.add_argument("--no-overhead", action="store_true")
    p.add_argument("--cache", action="store_true", help=f"also run First Block Cache ({NOT_MEASURED})")
    p.add_argument("--startup", default="sdxl,ltx-video-2b",
                   help="two workloads for start-up and switch timing, or 'none'")
    args = p.parse_args(argv)
    if args.smoke:
        args.runs, args.max_steps = 1, 2
        args.compile_backend = "eager"  # dynamo's tracing, without a C++ toolchain or minutes of inductor
    return args


def main(argv: list[str] | None = None) -> str:
    import torch

    args = parse_args(argv)
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.set_verbosity_error()  # "truncated to max_sequence_length", float32-modules notes
    transformers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    if not args.smoke and not torch.cuda.is_available():
        raise SystemExit("No CUDA GPU here: run with --smoke to check the code on the CPU.")
    device = "cpu" if args.smoke else "cuda"
    dtype = torch.float32 if args.smoke else torch.bfloat16
    args.dtype_name = "float32" if args.smoke else "bfloat16"
    if args.smoke:
        global FLUX_CFG
        FLUX_CFG = (models.SMOKE["flux"]["transformer"], 2)
    every = models.workloads(args.smoke)
    wanted = {n.strip() for n in args.models.split(",") if n.strip()}
    chosen = [w for w in every if not wanted or w.name in wanted or w.arch in wanted]
    if not chosen:
        raise SystemExit(f"--models: none of {sorted(wanted)}; choose from {[w.name for w in every]} or "
                         f"{list(models.ARCHS)}.")
    by_name = {w.name: w for w in every}
    names = [] if args.startup == "none" else [n.strip() for n in args.startup.split(",")][:2]
    args.startup_workloads = [by_name[n] for n in names if n in by_name]
    rows = [Row(w) for w in chosen]
    startup = None
    with tempfile.TemporaryDirectory(prefix="gpu-arch-") as tmp_name:
        tmp = Path(tmp_name)
        saved: dict[str, tuple[models.Workload, Path]] = {}
        for arch in dict.fromkeys([w.arch for w in chosen] + [w.arch for w in args.startup_workloads]):
            bench_arch(arch, [r for r in rows if r.workload.arch == arch], args, device, dtype, tmp, saved)
        if len(saved) >= 2:
            startup = service.startup_and_switch(tmp, saved, device, args.dtype_name)
    gpu = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    title = (f"GPU architecture bench, {time.strftime('%Y-%m-%d')}, {gpu}, torch {torch.__version__}"
             + (" — SMOKE RUN: tiny sizes on the CPU, float32; checks the code, the numbers are not speed"
                if args.smoke else ", bf16, SDPA"))
    text = table(rows, title, startup, [w.name for w in args.startup_workloads])
    print(text)
    if args.out:
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
