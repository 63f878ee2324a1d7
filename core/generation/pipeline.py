"""The diffusers generation pipeline: loads catalog models with `from_pretrained`, keeps them warm, runs jobs.

Each job names its model (`GenerationRequest.model`, settled from the catalog `core.models.catalog` before it
was queued; empty: the catalog's default for its task). A model's base pipeline loads as its checkpoint's
class; the other tasks' pipelines (image-to-image, image-to-video, video conditions) are derived with
`from_pipe`, sharing the weights, as its family declaration says (`core.generation.families`). Without
configured models the tiny random-weight twins load through exactly the same code.

There is one generation path, `PipelineSet.render`: a job is a batch of one, and compatible jobs
(`core.generation.batch.batch_key`) share a call, each with its own prompt, seed and progress.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from core.canvas.compose import keep_unmasked
from core.errors import GenerationError
from core.generation.batch import batch_key
from core.generation.calls import GUIDANCE, accepted, family_call, video_call
from core.generation.conditions import (
    EXTRA_IMAGES_UNUSED,
    EXTRA_VIDEO_IMAGES_UNUSED,
    partial_steps,
    video_conditions,
)
from core.generation.families import loader_for, pipeline_for
from core.generation.loras import LoraSwitch
from core.generation.placement import place, resolve_device, resolve_dtype
from core.generation.tiny_models import IMAGE_SUBDIR, VIDEO_SUBDIR, build_tiny_models
from core.i18n import _, translate
from core.media.audio import PcmAudio, from_waveform
from core.models import FAMILIES, Task, task_of
from core.models.catalog import AUTO_IMAGE, AUTO_VIDEO, TWIN_PREFIX, Catalog, ModelEntry, catalog_for
from core.models.task_texts import NO_PIPELINE_FOR, PIPELINE_CANT
from core.service.grammar import command_for, model_prompt
from core.settings import Settings
from core.types import GenerationRequest, JobKind

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]
# diffusers' `callback_on_step_end(pipe, step, timestep, tensors) -> tensors to replace`.
StepCallback = Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]

# Loading patches torch globally for a moment (accelerate's empty-weights init swaps
# `nn.Module.register_parameter`): two loads in one process at once, e.g. two workers' GPU threads, can leave
# the patch in place and every later load with meta tensors. One load at a time per process.
_LOADING = threading.Lock()


class GenerationCancelled(RuntimeError):
    """Raised inside the pipeline between two steps when the caller asked it to stop (e.g. a time limit)."""


@dataclass
class GenerationResult:
    """What a job made, before it is labelled and encoded."""

    frames: list[Image.Image]
    is_video: bool
    model: str
    seconds: float
    flagged: bool = False  # the model's own safety checker flagged it (delivered only where NSFW is allowed)
    fps: float | None = None  # the frames' own rate (a member's clip or GIF for a meme); None: the request's
    prefer_gif: bool = False  # answer with a GIF (the member's media was an animated GIF)
    batch_size: int = 1  # jobs that shared the pipeline call
    notes: list[str] = field(default_factory=list)  # told to the member (e.g. references not used)
    audio: PcmAudio | None = None  # a soundtrack the model generated (LTX-2 audio-video pipelines)
    labelled: int = 0  # leading frames that already carry their labels (an extended clip's source part)


@dataclass(frozen=True)
class Job:
    """One request as the pipeline runs it.

    `images` are the image references in order (the first drives edit/animate); `video` is the sampled,
    resized frames of a video reference (video to video). `should_stop` is checked after every step.
    """

    request: GenerationRequest
    images: list[Image.Image] = field(default_factory=list)
    video: list[Image.Image] | None = None
    progress: ProgressFn | None = None
    should_stop: StopFn | None = None
    continues: bool = False  # `video` is a clip's last frames to continue from (extend), not a clip to restyle

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()


class PipelineSet:
    """Loaded pipelines for one worker, by catalog model. Thread-confined: call `generate` / `render` from one
    thread at a time.

    Models load on first use (or `warm_up`) and stay warm; past the worker's budget (`worker_max_models`,
    `worker_memory_gb`) the least recently used model is evicted before the next one loads.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        # Base pipelines by model name, derived ones by (model, task); None: the model cannot do the task.
        self._bases: OrderedDict[str, Any] = OrderedDict()  # least recently used first
        self._derived_pipes: dict[tuple[str, Task], Any] = {}
        self._bytes: dict[str, int] = {}
        self._lock = threading.RLock()
        self.loads = 0
        self.switches = 0  # loads after warm-up: a job waited for its model
        self.evictions = 0
        self.sources: dict[str, str] = {}  # model name -> where it was loaded from
        self._warm = False
        self.applied_options: dict[str, object] = {}
        self.loras = LoraSwitch(settings.resolved_loras_dir())

    # ---- the catalog ----------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return catalog_for(self.settings)

    def entry_for(self, kind: JobKind, model: str = "", task: Task | None = None) -> ModelEntry:
        """The catalog entry a job runs on: its settled `model`, or the catalog's default for its task."""
        if not kind.uses_model:
            raise GenerationError(f"/{command_for(kind)} needs no model.")
        task = task or task_of(kind)
        entry = self.catalog.entry(model) if model else self.catalog.default_for(task)
        if entry is None and task == Task.UPSCALE and not model:
            entry = self.catalog.default_for(Task.IMAGE_TO_IMAGE)  # refines a resized copy (upscale module)
        if entry is None:
            raise GenerationError(_("This server has no model named {model} any more; ask an owner, or see /models.",
                                    model=repr(model)) if model else translate(NO_PIPELINE_FOR[task]))
        return entry

    @property
    def warm_models(self) -> list[str]:
        """The models loaded now, most recently used last."""
        return list(self._bases)

    def share_warm(self, other: PipelineSet) -> None:
        """Use `other`'s loaded pipelines (same weights, no second load): for stand-ins wrapping a warm set."""
        self._bases, self._derived_pipes, self._bytes = other._bases, other._derived_pipes, other._bytes

    # ---- loading ------------------------------------------------------------------------
    def model_source(self, entry: ModelEntry) -> str:
        """The local path or hub id the entry loads from (tiny twins are built on first use)."""
        source = entry.source
        if source in ("tiny:image", "tiny:video"):
            root = build_tiny_models(self.settings.resolved_tiny_dir())
            return str(root / (IMAGE_SUBDIR if source == "tiny:image" else VIDEO_SUBDIR))
        if source.startswith(TWIN_PREFIX):
            from core.generation.twins import build_twin

            return str(build_twin(self.settings.resolved_tiny_dir(), source.removeprefix(TWIN_PREFIX)))
        return source

    def model_label(self, entry: ModelEntry) -> str:
        """How captions name the model."""
        return self.settings.model_name_in_caption or entry.label

    def _base(self, entry: ModelEntry) -> Any:
        """The entry's base pipeline, loaded with `from_pretrained` on first use (call with the lock held)."""
        if entry.name in self._bases:
            self._bases.move_to_end(entry.name)
            return self._bases[entry.name]
        import diffusers

        self._make_room(entry)
        source = self.model_source(entry)
        log.info("loading model %s (%s) from %s on %s", entry.name, entry.family, source, self.device)
        with _LOADING:
            # Safetensors only: mapped from disk, never unpickled (a pickled checkpoint can run code as it loads);
            # low_cpu_mem_usage builds the modules empty and fills them from the file, with no second copy in RAM.
            try:
                pipe = getattr(diffusers, loader_for(entry)).from_pretrained(
                    source, torch_dtype=self.dtype, use_safetensors=True, low_cpu_mem_usage=True)
            except OSError as exc:
                if "safetensors" not in str(exc):
                    raise
                raise GenerationError(_(
                    "The model {model} has no safetensors weights (only pickled ones, which are never loaded here). "
                    "Nothing was charged; an owner must convert it to safetensors.", model=entry.label)) from exc
        loaded = type(pipe).__name__
        if entry.family != AUTO_IMAGE.name and entry.family != AUTO_VIDEO.name and not entry.checkpoint.loads(loaded):
            raise GenerationError(_(
                "The model {model} loaded as {loaded}, but the catalog says it is a {family} {kind} checkpoint "
                "({loader}). An owner must fix its family or kind.", model=entry.label, loaded=loaded,
                family=entry.spec.title, kind=entry.kind, loader=entry.checkpoint.loader))
        self.applied_options = place(pipe, self.settings, self.device)
        pipe.set_progress_bar_config(disable=True)
        self.loads += 1
        self.sources[entry.name] = source
        if self._warm:
            self.switches += 1
            log.warning("loaded model %s after warm-up (switch #%d)", entry.name, self.switches)
        self._bases[entry.name] = pipe
        self._bytes[entry.name] = _weight_bytes(pipe)
        return pipe

    def _make_room(self, entry: ModelEntry) -> None:
        """Evict least recently used models until one more fits the count budget; the memory budget is
        checked against what is loaded (a model's size is known once loaded)."""
        s = self.settings
        budget = int(s.worker_memory_gb * 1024**3)
        while self._bases and (
            (s.worker_max_models and len(self._bases) >= s.worker_max_models)
            or (budget and sum(self._bytes.values()) + _estimate(self._bytes) > budget)
        ):
            self.evict(next(iter(self._bases)))

    def evict(self, name: str) -> None:
        """Drop a model and the pipelines derived from it, and return its memory."""
        with self._lock:
            if self._bases.pop(name, None) is None:
                return
            for key in [k for k in self._derived_pipes if k[0] == name]:
                del self._derived_pipes[key]
            self._bytes.pop(name, None)
            self.sources.pop(name, None)
            self.evictions += 1
            log.info("evicted model %s (least recently used)", name)
            import gc

            gc.collect()
            self.release_memory()

    def _pipeline(self, entry: ModelEntry, task: Task) -> Any | None:
        """The pipeline for `task` (derived from the base with `from_pipe` once), or None if the entry has none."""
        base = self._base(entry)
        name = pipeline_for(entry, type(base).__name__, task)
        if name is None:
            return None
        if name == type(base).__name__:
            return base
        key = (entry.name, task)
        if key not in self._derived_pipes:
            import diffusers

            pipe = getattr(diffusers, name).from_pipe(base)
            pipe.set_progress_bar_config(disable=True)
            self._derived_pipes[key] = pipe
        return self._derived_pipes[key]

    def get(self, kind: JobKind, model: str = "") -> Any:
        """The warm pipeline for `kind` on `model` (default: the task's default model), loading it on first use."""
        entry = self.entry_for(kind, model)
        task = task_of(kind)
        if task == Task.UPSCALE and not entry.serves(task):
            task = Task.IMAGE_TO_IMAGE  # no upscaler: the image model refines (core.generation.upscale)
        with self._lock:
            pipe = self._pipeline(entry, task)
            if pipe is None:
                raise GenerationError(translate(PIPELINE_CANT[task]).format(model=entry.label))
            return pipe

    def condition_pipe(self, model: str = "") -> Any | None:
        """The multi-condition video pipeline of the video model, or None if it has none."""
        entry = self.entry_for(JobKind.VIDEO, model)
        with self._lock:
            return self._pipeline(entry, Task.VIDEO_TO_VIDEO)

    def warm_up(self, kinds: tuple[JobKind, ...] = tuple(JobKind), models: tuple[str, ...] = ()) -> None:
        """Load now, so the first job does not pay for it: `models` by name with every task they serve, else the
        default models of `kinds`."""
        entries = [e for name in models if (e := self.catalog.entry(name)) is not None]
        if not models:
            for kind in kinds:
                if kind.uses_model and (entry := self.catalog.default_for(task_of(kind))) is not None:
                    entries.append(entry)
        with self._lock:
            for entry in dict.fromkeys(entries):
                for task in entry.tasks:
                    self._pipeline(entry, task)
        self._warm = True

    def release_memory(self) -> None:
        """Return cached accelerator memory (after a stopped run) so the next job starts clean."""
        import torch

        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    # ---- generation ---------------------------------------------------------------------
    def generate(
        self, request: GenerationRequest, images: list[Image.Image], progress: ProgressFn | None = None,
        video: list[Image.Image] | None = None,
        should_stop: StopFn | None = None,
    ) -> GenerationResult:
        """Run one request to completion (blocking; call it off the event loop): a batch of one."""
        return self.render([Job(request, images, video, progress, should_stop)])[0]

    def render(self, jobs: Sequence[Job]) -> list[GenerationResult]:
        """Run jobs as one pipeline call, each with its own prompt, seed and progress (blocking).

        Several jobs must share a batch key. Once every job's `should_stop` is true the run raises
        `GenerationCancelled` at the next step, so the accelerator is free for the next job within one
        step; a job that stops alone is dropped by its caller when the batch ends.
        """
        import torch

        first = jobs[0].request
        if not first.kind.uses_model:
            raise GenerationError("A meme of a member's picture needs no model.")
        if first.kind == JobKind.UPSCALE:  # its own calls: an upscale model, or refined tiles (never batched)
            from core.generation.upscale import upscale  # it builds on this module's types

            return [upscale(self, job) for job in jobs]
        if first.kind == JobKind.EXTEND:  # a continuation of the source clip, stitched to it (never batched)
            from core.generation.extend import extend  # it builds on this module's types

            return [extend(self, job) for job in jobs]
        entry = self.entry_for(first.kind, first.model)
        if len(jobs) > 1:
            key = batch_key(first)
            if key is None or any(batch_key(j.request) != key for j in jobs):
                raise ValueError("requests in a batch must share a batch key")
            if entry.spec.soundtrack:
                return [self.render([job])[0] for job in jobs]  # one soundtrack per call: one by one
        notes: list[list[str]] = [[] for _ in jobs]
        # A batch key admits no video reference and at most one image, so only a lone job has conditions.
        conditions = self._conditions(entry, jobs[0], notes[0]) if len(jobs) == 1 else None
        if not first.kind.is_video and first.kind != JobKind.INPAINT:  # an inpaint's second image is its mask
            for job, said in zip(jobs, notes, strict=True):
                if len(job.images) > 1:
                    said.append(EXTRA_IMAGES_UNUSED)
        pipe: Any = self.condition_pipe(entry.name) if conditions is not None else self.get(first.kind, entry.name)
        started = time.perf_counter()
        call = self._arguments(entry, jobs, pipe, conditions)
        # The family's rules, then only what the pipeline takes.
        if first.kind.is_video:
            found = (entry.spec, entry.checkpoint) if entry.family in FAMILIES else None
            call, said_all = video_call(pipe, found, call)
            for said in notes:
                said.extend(said_all)
        else:
            call = family_call(FAMILIES.get(entry.family), task_of(first.kind), call, accepted(pipe))
        with self.loras.use(pipe, first.loras), torch.inference_mode():  # one batch, one LoRA set (batch_key)
            out = pipe(**call)
        outputs = [list(frames) for frames in out.frames] if first.kind.is_video else [[i] for i in out.images]
        if first.kind == JobKind.INPAINT:  # canvas: what the mask keeps is pasted back exactly (core.canvas)
            outputs = [[keep_unmasked(_to_pil(f), job.images[0], job.images[1]) for f in frames]
                       for frames, job in zip(outputs, jobs, strict=True)]
        seconds = time.perf_counter() - started
        # The model's safety checker, where it has one, flags each output of the batch separately.
        flags = list(getattr(out, "nsfw_content_detected", None) or [False] * len(outputs))
        # Several images per job (core.variants): the call made n outputs for it; they form its result.
        outputs, flags = _per_job(outputs, flags, [_images_of(job) for job in jobs])
        return [
            GenerationResult(frames=[_to_pil(f) for f in frames], is_video=first.kind.is_video,
                             model=self.model_label(entry), seconds=seconds, flagged=bool(flag),
                             batch_size=len(jobs), notes=said, audio=_generated_audio(pipe, out, index))
            for index, (frames, flag, said) in enumerate(zip(outputs, flags, notes, strict=True))
        ]

    def _arguments(self, entry: ModelEntry, jobs: Sequence[Job], pipe: Any,
                   conditions: list[Any] | None) -> dict[str, Any]:
        """The pipeline call's arguments: per job as lists (diffusers takes lists), the rest from the first."""
        import torch

        first = jobs[0].request
        strength = first.strength or self.settings.edit_strength  # Vary buttons choose theirs (core.variants)
        steps, total = partial_steps(first.steps, strength if first.kind == JobKind.EDIT else 1.0)
        denoise = self.settings.restyle_strength if jobs[0].video and not jobs[0].continues else 1.0
        if conditions is not None and denoise < 1:
            steps, total = partial_steps(steps, denoise)
        gen_device = "cpu" if self.device == "mps" else self.device
        # Each job's images in turn (`n_images`, seeds seed..seed+n-1): diffusers takes one list entry per output.
        each = [(job, k) for job in jobs for k in range(_images_of(job))]
        negatives = [job.request.negative_prompt for job, _ in each]
        call: dict[str, Any] = dict(
            prompt=[model_prompt(job.request.prompt) for job, _ in each],
            negative_prompt=negatives if any(negatives) else None,
            num_inference_steps=steps,
            generator=[torch.Generator(device=gen_device).manual_seed((job.request.seed + k) % 2**32)
                       for job, k in each],
            callback_on_step_end=_step_callback(jobs, total),
        )
        if first.kind.needs_image and any(not job.images and not job.video for job in jobs):
            raise GenerationError(_("/{command} needs an image.", command=command_for(first.kind)))
        size = (first.width, first.height)
        if first.kind == JobKind.EDIT:
            call.update(image=[job.images[0].convert("RGB").resize(size) for job, _ in each], strength=strength)
        elif first.kind == JobKind.INPAINT:  # canvas: strength 1, so the masked area is drawn anew (core.canvas)
            if any(len(job.images) < 2 for job in jobs):
                raise GenerationError(_("Repainting needs the image and a black and white mask (white: repaint)."))
            call.update(image=[job.images[0].convert("RGB").resize(size) for job, _ in each],
                        mask_image=[job.images[1].convert("L").resize(size) for job, _ in each],
                        width=first.width, height=first.height, strength=1.0)
        else:
            call.update(width=first.width, height=first.height)
        if first.kind.is_video:
            call.update(num_frames=first.num_frames)
            if "frame_rate" in inspect.signature(pipe.__call__).parameters:
                call.update(frame_rate=first.fps)  # LTX/LTX-2 condition on it; LTX-2 times its audio by it
            if conditions is not None:
                call.update(conditions=conditions, denoise_strength=denoise)
            elif first.kind == JobKind.ANIMATE:
                # Image-to-video pipelines take one PIL image (LTX-2 re-compresses it); animate jobs never batch.
                call.update(image=jobs[0].images[0].convert("RGB").resize(size))
        if entry.guidance is not None:
            call[GUIDANCE] = entry.guidance  # the family's rules rename it (core.generation.calls)
        return call

    def _conditions(self, entry: ModelEntry, job: Job, notes: list[str]) -> list[Any] | None:
        """A lone video job's conditions (a reference clip, or several images), or None when it has none.

        Returns None (and says why in `notes`) when the video model takes only one image.
        """
        request = job.request
        if not request.kind.is_video or not (job.video or len(job.images) > 1):
            return None
        if self.condition_pipe(entry.name) is None:
            if job.video:
                raise GenerationError(_(
                    "The video model {model} cannot restyle a video. Attach an image instead, or choose a model "
                    "that can with --model (see /models).", model=entry.label))
            notes.append(EXTRA_VIDEO_IMAGES_UNUSED)
            return None
        return video_conditions(request, job.images, job.video, notes)


def _images_of(job: Job) -> int:
    """How many outputs a job owns in the call: its `n_images` for images, one video otherwise."""
    return 1 if job.request.kind.is_video else job.request.n_images


def _per_job(outputs: list[list[Any]], flags: list[Any],
             counts: list[int]) -> tuple[list[list[Any]], list[bool]]:
    """The call's outputs (one per image) grouped back per job: its images, flagged if any of them is."""
    grouped: list[list[Any]] = []
    flagged: list[bool] = []
    start = 0
    for n in counts:
        grouped.append([f for frames in outputs[start:start + n] for f in frames])
        flagged.append(any(bool(f) for f in flags[start:start + n]))
        start += n
    return grouped, flagged


def _weight_bytes(pipe: Any) -> int:
    """Bytes of a pipeline's weights (parameters and buffers of its torch modules)."""
    total = 0
    for component in getattr(pipe, "components", {}).values():
        for tensors in (getattr(component, "parameters", None), getattr(component, "buffers", None)):
            if callable(tensors):
                total += sum(t.numel() * t.element_size() for t in tensors())
    return total


def _estimate(loaded: dict[str, int]) -> int:
    """What the next model will likely take: the largest loaded one (its real size is known once loaded)."""
    return max(loaded.values(), default=0)


def _step_callback(jobs: Sequence[Job], total: int) -> StepCallback:
    """diffusers' `callback_on_step_end`: progress for every job, and a stop once all of them asked to."""
    who = f"job {jobs[0].request.job_id}" if len(jobs) == 1 else f"batch of {len(jobs)}"

    def on_step_end(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if all(job.stopped() for job in jobs):
            raise GenerationCancelled(f"{who} stopped after step {step + 1}")
        for job in jobs:
            if job.progress is not None:
                job.progress(min(step + 1, total), total)
        return {}

    return on_step_end


def _generated_audio(pipe: Any, out: Any, index: int) -> PcmAudio | None:
    """The soundtrack of an audio-video pipeline's `index`-th output (LTX-2), as PCM; None for silent models."""
    audio = getattr(out, "audio", None)
    if audio is None:
        return None
    vocoder = getattr(pipe, "vocoder", None)
    rate = getattr(getattr(vocoder, "config", None), "output_sampling_rate", None)
    rate = rate or getattr(pipe, "audio_sampling_rate", None) or 24_000
    return from_waveform(audio[index], int(rate))


def _to_pil(frame: Any) -> Image.Image:
    """A pipeline's output frame (PIL, or an array in 0-1 or uint8) as an RGB image of the job's own."""
    if isinstance(frame, Image.Image):
        img = frame
    else:
        import numpy as np

        arr = np.asarray(frame)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
        img = Image.fromarray(arr)
    return img if img.mode == "RGB" else img.convert("RGB")  # convert() to the same mode is one more copy
