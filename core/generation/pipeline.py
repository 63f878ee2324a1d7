"""The diffusers generation pipeline: loads models with `from_pretrained`, keeps them warm, and runs jobs.

Production points `image_model` / `video_model` at a local folder or hub id (an SDXL-Turbo or
FLUX-class text-to-image model; an LTX-Video or Wan-class text-to-video model). Unset, the tiny
random-weight set built by `core.generation.tiny_models` is loaded through exactly the same code.
The other tasks' pipelines (image-to-image, image-to-video, video conditions) are derived with
`from_pipe`, sharing the weights, as the family table (`core.generation.families`) says.

There is one generation path, `PipelineSet.render`: a job is a batch of one, and compatible jobs
(`core.generation.batch.batch_key`) share a call, each with its own prompt, seed and progress.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from core.errors import GenerationError
from core.generation.batch import batch_key
from core.generation.conditions import (
    EXTRA_IMAGES_UNUSED,
    EXTRA_VIDEO_IMAGES_UNUSED,
    partial_steps,
    video_conditions,
)
from core.generation.families import SLOTS, family_of, pipeline_for, upscale_entry, upscale_slot
from core.generation.placement import place, resolve_device, resolve_dtype
from core.generation.tiny_models import IMAGE_SUBDIR, VIDEO_SUBDIR, build_tiny_models
from core.generation.twins import build_twin
from core.media.audio import PcmAudio, from_waveform
from core.models import Task, task_of
from core.models.catalog import TWIN_PREFIX
from core.service.grammar import command_for, model_prompt
from core.settings import Settings
from core.types import GenerationRequest, JobKind

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]
# diffusers' `callback_on_step_end(pipe, step, timestep, tensors) -> tensors to replace`.
StepCallback = Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]

# What a slot's model cannot do, in the member's words.
CANNOT = {Task.IMAGE_TO_IMAGE: "edit images", Task.IMAGE_TO_VIDEO: "animate images"}


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

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()


class PipelineSet:
    """Loaded pipelines for one worker. Thread-confined: call `generate` / `render` from one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        # Base pipelines by slot ("image", "video") and derived ones by task; None: the family cannot do it.
        self._pipes: dict[str | Task, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0
        self.switches = 0  # loads after warm-up: a job waited for its model
        self.sources: dict[str, str] = {}  # slot -> where it was loaded from
        self._warm = False
        self.applied_options: dict[str, object] = {}

    # ---- loading ------------------------------------------------------------------------
    def model_source(self, slot: str) -> str:
        """The local path or hub id that `slot` ('image', 'video' or 'upscale') loads from."""
        if slot == "upscale":
            return upscale_source(self.settings)
        configured = self.settings.image_model if slot == "image" else self.settings.video_model
        if configured:
            return configured
        root = build_tiny_models(self.settings.resolved_tiny_dir())
        return str(root / (IMAGE_SUBDIR if slot == "image" else VIDEO_SUBDIR))

    def model_label(self, kind: JobKind) -> str:
        slot = kind.family
        if self.settings.model_name_in_caption:
            return self.settings.model_name_in_caption
        configured = self.settings.image_model if slot == "image" else self.settings.video_model
        return configured.rstrip("/").split("/")[-1] if configured else f"reelsmith-tiny-{slot}"

    def _base(self, slot: str) -> Any:
        """The slot's base pipeline, loaded with `from_pretrained` on first use (call with the lock held)."""
        if slot in self._pipes:
            return self._pipes[slot]
        import diffusers

        source = self.model_source(slot)
        log.info("loading %s model from %s on %s", slot, source, self.device)
        pipe = getattr(diffusers, SLOTS[slot].loader).from_pretrained(source, torch_dtype=self.dtype)
        self.applied_options = place(pipe, self.settings, self.device)
        pipe.set_progress_bar_config(disable=True)
        self.loads += 1
        self.sources[slot] = source
        if self._warm:
            self.switches += 1
            log.warning("loaded the %s model after warm-up (switch #%d)", slot, self.switches)
        self._pipes[slot] = pipe
        return pipe

    def _derived(self, slot: str, task: Task) -> Any | None:
        """The pipeline for `task`, derived from the slot's base with `from_pipe` once; None if its family has none."""
        base = self._base(slot)
        if task == SLOTS[slot].base_task:
            return base
        if task not in self._pipes:
            name = pipeline_for(slot, type(base).__name__, task)
            pipe = None
            if name is not None:
                import diffusers

                pipe = getattr(diffusers, name).from_pipe(base)
                pipe.set_progress_bar_config(disable=True)
            self._pipes[task] = pipe
        return self._pipes[task]

    def get(self, kind: JobKind) -> Any:
        """The warm pipeline for `kind`, loading it (once) on first use."""
        if not kind.uses_model:
            raise GenerationError(f"/{command_for(kind)} needs no model.")
        slot, task = (upscale_slot(upscale_entry(self.settings) is not None) if kind == JobKind.UPSCALE
                      else (kind.family, task_of(kind)))
        with self._lock:
            pipe = self._derived(slot, task)
            if pipe is None:
                raise GenerationError(
                    f"The configured {slot} model ({type(self._base(slot)).__name__}) cannot {CANNOT[task]}."
                )
            return pipe

    def condition_pipe(self) -> Any | None:
        """The multi-condition video pipeline derived from the loaded video model, or None if it has none."""
        with self._lock:
            return self._derived("video", Task.VIDEO_TO_VIDEO)

    def warm_up(self, kinds: tuple[JobKind, ...] = tuple(JobKind)) -> None:
        """Load every pipeline now so the first job does not pay for it."""
        for kind in kinds:
            if kind.uses_model:
                self.get(kind)
        if JobKind.VIDEO in kinds:
            self.condition_pipe()
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
        if first.kind == JobKind.UPSCALE:  # its own calls: an upscale model, or refining tiles (never batched)
            from core.generation.upscale import upscale  # it builds on this module's types

            return [upscale(self, job) for job in jobs]
        if len(jobs) > 1:
            key = batch_key(first)
            if key is None or any(batch_key(j.request) != key for j in jobs):
                raise ValueError("requests in a batch must share a batch key")
            if first.kind.is_video and self._family_sound():
                return [self.render([job])[0] for job in jobs]  # one soundtrack per call: one by one
        notes: list[list[str]] = [[] for _ in jobs]
        # A batch key admits no video reference and at most one image, so only a lone job has conditions.
        conditions = self._conditions(jobs[0], notes[0]) if len(jobs) == 1 else None
        if not first.kind.is_video:
            for job, said in zip(jobs, notes, strict=True):
                if len(job.images) > 1:
                    said.append(EXTRA_IMAGES_UNUSED)
        pipe: Any = self.condition_pipe() if conditions is not None else self.get(first.kind)
        started = time.perf_counter()
        call = self._arguments(jobs, pipe, conditions)
        with torch.inference_mode():
            out = pipe(**call)
        outputs = [list(frames) for frames in out.frames] if first.kind.is_video else [[i] for i in out.images]
        seconds = time.perf_counter() - started
        # The model's safety checker, where it has one, flags each output of the batch separately.
        flags = list(getattr(out, "nsfw_content_detected", None) or [False] * len(jobs))
        return [
            GenerationResult(frames=[_to_pil(f) for f in frames], is_video=first.kind.is_video,
                             model=self.model_label(first.kind), seconds=seconds, flagged=bool(flag),
                             batch_size=len(jobs), notes=said, audio=_generated_audio(pipe, out, index))
            for index, (frames, flag, said) in enumerate(zip(outputs, flags, notes, strict=True))
        ]

    def _arguments(self, jobs: Sequence[Job], pipe: Any, conditions: list[Any] | None) -> dict[str, Any]:
        """The pipeline call's arguments: per job as lists (diffusers takes lists), the rest from the first."""
        import torch

        first = jobs[0].request
        strength = self.settings.edit_strength
        steps, total = partial_steps(first.steps, strength if first.kind == JobKind.EDIT else 1.0)
        denoise = self.settings.restyle_strength if jobs[0].video else 1.0
        if conditions is not None and denoise < 1:
            steps, total = partial_steps(steps, denoise)
        gen_device = "cpu" if self.device == "mps" else self.device
        negatives = [job.request.negative_prompt for job in jobs]
        call: dict[str, Any] = dict(
            prompt=[model_prompt(job.request.prompt) for job in jobs],
            negative_prompt=negatives if any(negatives) else None,
            num_inference_steps=steps,
            generator=[torch.Generator(device=gen_device).manual_seed(job.request.seed) for job in jobs],
            callback_on_step_end=_step_callback(jobs, total),
        )
        if first.kind.needs_image and any(not job.images and not job.video for job in jobs):
            raise GenerationError(f"/{command_for(first.kind)} needs an image.")
        size = (first.width, first.height)
        if first.kind == JobKind.EDIT:
            call.update(image=[job.images[0].convert("RGB").resize(size) for job in jobs], strength=strength)
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
        return call

    def _family_sound(self) -> bool:
        """Whether the loaded video model makes its own soundtrack (an audio-video family)."""
        base = self.get(JobKind.VIDEO)
        found = family_of("video", type(base).__name__)
        return found is not None and found[0].soundtrack

    def _conditions(self, job: Job, notes: list[str]) -> list[Any] | None:
        """A lone video job's conditions (a reference clip, or several images), or None when it has none.

        Returns None (and says why in `notes`) when the video model takes only one image.
        """
        request = job.request
        if not request.kind.is_video or not (job.video or len(job.images) > 1):
            return None
        if self.condition_pipe() is None:
            if job.video:
                raise GenerationError(
                    f"The configured video model ({type(self.get(JobKind.VIDEO)).__name__}) cannot restyle a "
                    "video. Attach an image instead, or ask the owner for an LTX-Video model."
                )
            notes.append(EXTRA_VIDEO_IMAGES_UNUSED)
            return None
        return video_conditions(request, job.images, job.video, notes)


def upscale_source(settings: Settings) -> str:
    """Where the catalog's upscale model loads from: its folder or hub id, or a tiny twin (`twin:<name>`)."""
    entry = upscale_entry(settings)
    if entry is None:
        raise GenerationError("No upscale model is configured.")
    if entry.source.startswith(TWIN_PREFIX):
        return str(build_twin(settings.resolved_tiny_dir(), entry.source.removeprefix(TWIN_PREFIX)))
    return entry.source


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
    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    import numpy as np

    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr).convert("RGB")
