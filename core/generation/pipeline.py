"""The diffusers generation pipeline: loads models with `from_pretrained` and keeps them warm.

Production points `image_model` / `video_model` at a local folder or hub id (an SDXL-Turbo or
FLUX-class text-to-image model; an LTX-Video or Wan-class text-to-video model). Unset, the tiny
random-weight set built by `core.generation.tiny_models` is loaded through exactly the same code.
Image-to-image and image-to-video pipelines are derived with `from_pipe`, sharing the weights.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from core.errors import GenerationError
from core.generation.tiny_models import IMAGE_SUBDIR, VIDEO_SUBDIR, build_tiny_models
from core.media.audio import PcmAudio, from_waveform
from core.service.grammar import command_for, model_prompt
from core.settings import Settings
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
    "LTX2Pipeline": "LTX2ImageToVideoPipeline",
}
# Text-to-video pipeline class -> its sibling that takes several image/video conditions at chosen frames.
MULTI_CONDITION = {
    "LTXPipeline": "LTXConditionPipeline",
    "LTXConditionPipeline": "LTXConditionPipeline",
}
CONDITION_KEY = "video-condition"
EXTRA_IMAGES_UNUSED = "extra reference images were not used: the image model supports one"


class GenerationCancelled(RuntimeError):
    """Raised inside the pipeline between two steps when the caller asked it to stop (e.g. a time limit)."""


@dataclass
class GenerationResult:
    frames: list[Image.Image]
    is_video: bool
    model: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # told to the member (e.g. references not used)
    audio: PcmAudio | None = None  # a soundtrack the model generated (LTX-2 audio-video pipelines)


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
        self.switches = 0  # loads after warm-up: a job waited for its model
        self.sources: dict[str, str] = {}  # family -> where it was loaded from
        self._warm = False
        self.applied_options: dict[str, object] = {}

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
        self._apply_memory_options(pipe)
        pipe.set_progress_bar_config(disable=True)
        self.loads += 1
        self.sources[family] = source
        if self._warm:
            self.switches += 1
            log.warning("loaded the %s model after warm-up (switch #%d)", family, self.switches)
        return pipe

    def _apply_memory_options(self, pipe: Any) -> None:
        """Device placement and the VRAM/speed trade-offs from settings (see README, GPU path)."""
        s = self.settings
        if s.cpu_offload == "model":
            pipe.enable_model_cpu_offload(device=self.device)
        elif s.cpu_offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)
        vae = getattr(pipe, "vae", None)
        if s.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        if s.vae_slicing and vae is not None and hasattr(vae, "enable_slicing"):
            vae.enable_slicing()
        if s.torch_compile:
            import torch

            for name in ("unet", "transformer"):
                module = getattr(pipe, name, None)
                if module is not None:
                    setattr(pipe, name, torch.compile(module, mode="max-autotune-no-cudagraphs"))
        self.applied_options = {"cpu_offload": s.cpu_offload, "vae_tiling": s.vae_tiling,
                                "vae_slicing": s.vae_slicing, "torch_compile": s.torch_compile}

    def get(self, kind: JobKind) -> Any:
        """The warm pipeline for `kind`, loading it (once) on first use."""
        if not kind.uses_model:
            raise GenerationError(f"/{command_for(kind)} needs no model.")
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
            if kind.uses_model:
                self.get(kind)
        if JobKind.VIDEO in kinds:
            self.condition_pipe()
        self._warm = True

    def condition_pipe(self) -> Any | None:
        """The multi-condition video pipeline derived from the loaded video model, or None if it has none."""
        base = self.get(JobKind.VIDEO)
        with self._lock:
            if CONDITION_KEY not in self._pipes:
                name = MULTI_CONDITION.get(type(base).__name__)
                pipe = None
                if name is not None:
                    import diffusers

                    pipe = getattr(diffusers, name).from_pipe(base)
                    pipe.set_progress_bar_config(disable=True)
                self._pipes[CONDITION_KEY] = pipe
            return self._pipes[CONDITION_KEY]

    def release_memory(self) -> None:
        """Return cached accelerator memory (after a stopped run) so the next job starts clean."""
        import torch

        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    # ---- generation ---------------------------------------------------------------------
    def generate(
        self, request: GenerationRequest, images: list[Image.Image], progress: ProgressFn | None = None,
        video: list[Image.Image] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        """Run one request to completion (blocking; call it off the event loop).

        `images` are the image references in order (the first drives edit/animate); `video` is the
        sampled, resized frames of a video reference (video to video). `should_stop` is checked after
        every denoising step; once it is true the run raises `GenerationCancelled` there, so the
        accelerator is free for the next job within one step.
        """
        import torch

        if not request.kind.uses_model:
            raise GenerationError("A meme of a member's picture needs no model.")
        notes: list[str] = []
        conditions = None
        if request.kind.is_video and (video or len(images) > 1):
            conditions = self._video_conditions(request, images, video, notes)
        elif not request.kind.is_video and len(images) > 1:
            notes.append(EXTRA_IMAGES_UNUSED)
        pipe: Any = self.condition_pipe() if conditions is not None else self.get(request.kind)
        started = time.perf_counter()
        strength = self.settings.edit_strength
        steps, total = partial_steps(request.steps, strength if request.kind == JobKind.EDIT else 1.0)
        denoise = self.settings.restyle_strength if video else 1.0
        if conditions is not None and denoise < 1:
            steps, total = partial_steps(steps, denoise)

        def on_step_end(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if should_stop is not None and should_stop():
                raise GenerationCancelled(f"job {request.job_id} stopped after step {step + 1}")
            if progress is not None:
                progress(min(step + 1, total), total)
            return {}

        gen_device = "cpu" if self.device == "mps" else self.device
        common: dict[str, Any] = dict(
            prompt=model_prompt(request.prompt),
            negative_prompt=request.negative_prompt or None,
            num_inference_steps=steps,
            generator=torch.Generator(device=gen_device).manual_seed(request.seed),
            callback_on_step_end=on_step_end,
        )
        if request.kind.needs_image and not images and not video:
            raise GenerationError(f"/{command_for(request.kind)} needs an image.")
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
                if "frame_rate" in inspect.signature(pipe.__call__).parameters:
                    kwargs["frame_rate"] = request.fps  # LTX/LTX-2 condition on it; LTX-2 times its audio by it
                if conditions is not None:
                    kwargs["conditions"] = conditions
                    kwargs["denoise_strength"] = denoise
                elif request.kind == JobKind.ANIMATE:
                    kwargs["image"] = first
                out = pipe(**kwargs, **common)
                frames = list(out.frames[0])
        flagged = getattr(out, "nsfw_content_detected", None)  # the model's safety checker, where it has one
        return GenerationResult(
            frames=[_to_pil(f) for f in frames],
            is_video=request.kind.is_video,
            model=self.model_label(request.kind),
            seconds=time.perf_counter() - started,
            extra={"nsfw_flagged": bool(flagged is not None and any(bool(f) for f in flagged))},
            notes=notes,
            audio=_generated_audio(pipe, out),
        )

    def _video_conditions(self, request: GenerationRequest, images: list[Image.Image],
                          video: list[Image.Image] | None, notes: list[str]) -> list[Any] | None:
        """LTX-style conditions: a reference clip at frame 0, or images spread over the clip.

        Returns None (and says why in `notes`) when the video model takes only one image.
        """
        base = self.get(JobKind.VIDEO)
        if self.condition_pipe() is None:
            if video:
                raise GenerationError(
                    f"The configured video model ({type(base).__name__}) cannot restyle a video. "
                    "Attach an image instead, or ask the owner for an LTX-Video model."
                )
            notes.append("extra reference images were not used: the video model supports one")
            return None
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        size = (request.width, request.height)
        if video:
            if images:
                notes.append("reference images were not used: a video reference drives the whole clip")
            return [LTXVideoCondition(video=video, frame_index=0, strength=1.0)]
        # LTX conditions latent frames, 8 video frames each: one image per 8-frame slot at most.
        slots = (request.num_frames - 1) // 8 + 1
        used = min(len(images), slots)
        if used < len(images):
            notes.append(f"{len(images) - used} reference image(s) were not used: a {request.num_frames}-frame "
                         f"clip has room for {slots} (one per 8 frames); ask for more --frames")
        out = []
        for i in range(used):
            slot = round(i * (slots - 1) / (used - 1)) if used > 1 else 0
            image = images[i].convert("RGB").resize(size)
            out.append(LTXVideoCondition(image=image, frame_index=slot * 8, strength=1.0))
        return out


def _generated_audio(pipe: Any, out: Any) -> PcmAudio | None:
    """The soundtrack of an audio-video pipeline's output (LTX-2), as PCM; None for silent models."""
    audio = getattr(out, "audio", None)
    if audio is None:
        return None
    vocoder = getattr(pipe, "vocoder", None)
    rate = getattr(getattr(vocoder, "config", None), "output_sampling_rate", None)
    rate = rate or getattr(pipe, "audio_sampling_rate", None) or 24_000
    return from_waveform(audio[0], int(rate))


def partial_steps(steps: int, strength: float) -> tuple[int, int]:
    """Scheduler steps to ask for and steps that will run when only `strength` of the schedule is denoised.

    Image-to-image (and video restyling) skip the first (1 - strength) of the schedule, so at least
    1 / strength steps are needed for one to run; progress counts the steps that do.
    """
    if strength >= 1:
        return steps, steps
    steps = max(steps, math.ceil(1 / strength))
    return steps, max(1, int(steps * strength))


def _to_pil(frame: Any) -> Image.Image:
    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    import numpy as np

    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr).convert("RGB")


# ---- micro-batching ---------------------------------------------------------------------------
BATCHABLE = (JobKind.IMAGE, JobKind.EDIT, JobKind.VIDEO)


def batch_key(request: GenerationRequest) -> tuple[Any, ...] | None:
    """Requests with equal keys can share one pipeline call; None means run alone."""
    if request.kind not in BATCHABLE or request.fit_audio:
        return None
    refs = [r for r in request.references if r.media_type.value in ("image", "video")]
    if request.kind == JobKind.EDIT and len(refs) != 1:
        return None
    if request.kind != JobKind.EDIT and (refs or request.references):
        return None
    return (request.kind, request.width, request.height, request.steps, request.num_frames)


StopFn = Callable[[], bool]


def generate_batch(pipes: PipelineSet, requests: list[GenerationRequest], images: list[list[Image.Image]],
                   progress: list[ProgressFn | None],
                   should_stop: list[StopFn | None] | None = None) -> list[GenerationResult]:
    """Run compatible requests as one batched pipeline call; each keeps its own seed and progress.

    The batch stops early (GenerationCancelled) only when every member asks to stop; a member that
    stops alone is dropped by its caller when the batch ends.
    """
    import torch

    stops = should_stop or [None] * len(requests)
    if len(requests) == 1:
        return [pipes.generate(requests[0], images[0], progress[0], should_stop=stops[0])]
    first = requests[0]
    key = batch_key(first)
    if key is None or any(batch_key(r) != key for r in requests):
        raise ValueError("requests in a batch must share a batch key")
    pipe = pipes.get(first.kind)
    if first.kind.is_video and type(pipe).__name__.startswith("LTX2"):
        # Audio-video models return one soundtrack per call: run those jobs one by one.
        return [pipes.generate(r, i, p, should_stop=st)
                for r, i, p, st in zip(requests, images, progress, stops, strict=True)]
    started = time.perf_counter()
    strength = pipes.settings.edit_strength
    steps, total = partial_steps(first.steps, strength if first.kind == JobKind.EDIT else 1.0)

    def on_step_end(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if all(st is not None and st() for st in stops):
            raise GenerationCancelled(f"batch of {len(requests)} stopped after step {step + 1}")
        for fn in progress:
            if fn is not None:
                fn(min(step + 1, total), total)
        return {}

    gen_device = "cpu" if pipes.device == "mps" else pipes.device
    negatives = [r.negative_prompt for r in requests]
    common: dict[str, Any] = dict(
        prompt=[model_prompt(r.prompt) for r in requests],
        negative_prompt=negatives if any(negatives) else None,
        num_inference_steps=steps,
        generator=[torch.Generator(device=gen_device).manual_seed(r.seed) for r in requests],
        callback_on_step_end=on_step_end,
    )
    with torch.inference_mode():
        if first.kind == JobKind.IMAGE:
            out = pipe(width=first.width, height=first.height, **common)
            outs = [[img] for img in out.images]
        elif first.kind == JobKind.EDIT:
            refs = [imgs[0].convert("RGB").resize((first.width, first.height)) for imgs in images]
            out = pipe(image=refs, strength=strength, **common)
            outs = [[img] for img in out.images]
        else:
            kwargs: dict[str, Any] = {}
            if "frame_rate" in inspect.signature(pipe.__call__).parameters:
                kwargs["frame_rate"] = first.fps
            out = pipe(width=first.width, height=first.height, num_frames=first.num_frames, **kwargs, **common)
            outs = [list(frames) for frames in out.frames]
    seconds = time.perf_counter() - started
    # The model's safety checker flags each image of the batch separately, where it has one.
    flagged = getattr(out, "nsfw_content_detected", None) or [False] * len(requests)
    return [
        GenerationResult(frames=[_to_pil(f) for f in frames], is_video=r.kind.is_video,
                         model=pipes.model_label(r.kind), seconds=seconds,
                         extra={"batch": len(requests), "nsfw_flagged": bool(flag)})
        for r, frames, flag in zip(requests, outs, flagged, strict=True)
    ]
