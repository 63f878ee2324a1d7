"""The diffusers generation pipeline: loads models with `from_pretrained` and keeps them warm.

Production points `image_model` / `video_model` at a local folder or hub id (an SDXL-Turbo or
FLUX-class text-to-image model; an LTX-Video or Wan-class text-to-video model). Unset, the tiny
random-weight set built by `core.tiny_models` is loaded through exactly the same code.
Image-to-image and image-to-video pipelines are derived with `from_pipe`, sharing the weights.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from core.settings import Settings
from core.tiny_models import IMAGE_SUBDIR, VIDEO_SUBDIR, build_tiny_models
from core.types import GenerationRequest, JobKind

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]

# Text-to-video pipeline class -> its image-to-video sibling that can share components.
IMAGE_TO_VIDEO = {
    "LTXPipeline": "LTXImageToVideoPipeline",
    "LTXConditionPipeline": "LTXImageToVideoPipeline",
    "WanPipeline": "WanImageToVideoPipeline",
    "CogVideoXPipeline": "CogVideoXImageToVideoPipeline",
    "HunyuanVideoPipeline": "HunyuanVideoImageToVideoPipeline",
}


class GenerationError(RuntimeError):
    """A failure to report to the member (the message is safe to show)."""


class GenerationCancelled(RuntimeError):
    """Raised inside the pipeline between two steps when the caller asked it to stop (e.g. a time limit)."""


@dataclass
class GenerationResult:
    frames: list[Image.Image]
    is_video: bool
    model: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_device(setting: str) -> str:
    import torch

    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def resolve_dtype(setting: str, device: str) -> Any:
    import torch

    if setting == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, setting)


class PipelineSet:
    """Loaded pipelines for one worker. Thread-confined: call `generate` from one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        self._pipes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0

    # ---- loading ------------------------------------------------------------------------
    def model_source(self, family: str) -> str:
        """The local path or hub id that `family` ('image' or 'video') loads from."""
        configured = self.settings.image_model if family == "image" else self.settings.video_model
        if configured:
            return configured
        root = build_tiny_models(self.settings.resolved_tiny_dir())
        return str(root / (IMAGE_SUBDIR if family == "image" else VIDEO_SUBDIR))

    def model_label(self, kind: JobKind) -> str:
        family = "video" if kind.is_video else "image"
        if self.settings.model_name_in_caption:
            return self.settings.model_name_in_caption
        configured = self.settings.image_model if family == "image" else self.settings.video_model
        return configured.rstrip("/").split("/")[-1] if configured else f"reelsmith-tiny-{family}"

    def _load_base(self, family: str) -> Any:
        from diffusers import AutoPipelineForText2Image, DiffusionPipeline

        source = self.model_source(family)
        log.info("loading %s model from %s on %s", family, source, self.device)
        loader = AutoPipelineForText2Image if family == "image" else DiffusionPipeline
        pipe = loader.from_pretrained(source, torch_dtype=self.dtype)
        pipe = pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        self.loads += 1
        return pipe

    def get(self, kind: JobKind) -> Any:
        """The warm pipeline for `kind`, loading it (once) on first use."""
        with self._lock:
            if kind in self._pipes:
                return self._pipes[kind]
            if kind in (JobKind.IMAGE, JobKind.EDIT):
                base = self._pipes.get(JobKind.IMAGE) or self._load_base("image")
                self._pipes[JobKind.IMAGE] = base
                if kind == JobKind.EDIT:
                    from diffusers import AutoPipelineForImage2Image

                    self._pipes[kind] = AutoPipelineForImage2Image.from_pipe(base)
            else:
                base = self._pipes.get(JobKind.VIDEO) or self._load_base("video")
                self._pipes[JobKind.VIDEO] = base
                if kind == JobKind.ANIMATE:
                    name = IMAGE_TO_VIDEO.get(type(base).__name__)
                    if name is None:
                        raise GenerationError(
                            f"The configured video model ({type(base).__name__}) cannot animate images."
                        )
                    import diffusers

                    self._pipes[kind] = getattr(diffusers, name).from_pipe(base)
            pipe = self._pipes[kind]
            pipe.set_progress_bar_config(disable=True)
            return pipe

    def warm_up(self, kinds: tuple[JobKind, ...] = tuple(JobKind)) -> None:
        """Load every pipeline now so the first job does not pay for it."""
        for kind in kinds:
            self.get(kind)

    def release_memory(self) -> None:
        """Return cached accelerator memory (after a stopped run) so the next job starts clean."""
        import torch

        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    # ---- generation ---------------------------------------------------------------------
    def generate(
        self, request: GenerationRequest, images: list[Image.Image], progress: ProgressFn | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        """Run one request to completion (blocking; call it off the event loop).

        `should_stop` is checked after every denoising step; once it is true the run raises
        `GenerationCancelled` there, so the accelerator is free for the next job within one step.
        """
        import torch

        pipe = self.get(request.kind)
        started = time.perf_counter()
        steps = request.steps
        strength = self.settings.edit_strength
        total = steps
        if request.kind == JobKind.EDIT:
            steps = max(steps, math.ceil(1 / strength))
            total = max(1, int(steps * strength))

        def on_step_end(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if should_stop is not None and should_stop():
                raise GenerationCancelled(f"job {request.job_id} stopped after step {step + 1}")
            if progress is not None:
                progress(min(step + 1, total), total)
            return {}

        gen_device = "cpu" if self.device == "mps" else self.device
        common: dict[str, Any] = dict(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt or None,
            num_inference_steps=steps,
            generator=torch.Generator(device=gen_device).manual_seed(request.seed),
            callback_on_step_end=on_step_end,
        )
        if request.kind.needs_image and not images:
            raise GenerationError(f"/{_command(request.kind)} needs an image.")
        first = images[0].convert("RGB").resize((request.width, request.height)) if images else None
        with torch.inference_mode():
            if request.kind == JobKind.IMAGE:
                out = pipe(width=request.width, height=request.height, **common)
                frames = list(out.images)
            elif request.kind == JobKind.EDIT:
                out = pipe(image=first, strength=strength, **common)
                frames = list(out.images)
            else:
                kwargs: dict[str, Any] = dict(
                    width=request.width, height=request.height, num_frames=request.num_frames
                )
                if request.kind == JobKind.ANIMATE:
                    kwargs["image"] = first
                out = pipe(**kwargs, **common)
                frames = list(out.frames[0])
        return GenerationResult(
            frames=[_to_pil(f) for f in frames],
            is_video=request.kind.is_video,
            model=self.model_label(request.kind),
            seconds=time.perf_counter() - started,
        )


def _command(kind: JobKind) -> str:
    return {"image": "imagine", "edit": "edit", "video": "video", "animate": "animate"}[kind.value]


def _to_pil(frame: Any) -> Image.Image:
    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    import numpy as np

    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr).convert("RGB")
