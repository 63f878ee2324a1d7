"""/upscale: a member's image, larger, by one of two paths.

- An upscale model (`upscale_model`, e.g. the SD x4 upscaler): the image, fitted to the model's input limit
  (the result cap over its factor), goes through the model once; the 4x result is resized (Lanczos) to the
  size asked for.
- No upscale model: the image is resized (Lanczos) to the size asked for, then refined by a low-strength
  (`upscale_strength`) image-to-image pass of the image model, in overlapping tiles of the model's own size
  where it is larger, blended back so no seam shows.

The request's width and height are the result's size (set by the service, so quotas charge by output pixels).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from core.errors import GenerationError
from core.generation.conditions import partial_steps
from core.generation.pipeline import GenerationCancelled, GenerationResult, Job, PipelineSet
from core.i18n import _
from core.models import Family, Task
from core.models.families.sd_upscale import SD_UPSCALE_FACTOR, SD_UPSCALE_NOISE_LEVEL
from core.service.grammar import model_prompt
from core.types import JobKind

Box = tuple[int, int, int, int]  # left, top, right, bottom
MULTIPLE = 8  # sides the models take are multiples of this
StepFn = Callable[[], None]  # one denoising step done


def upscale(pipes: PipelineSet, job: Job) -> GenerationResult:
    """Run one /upscale job (blocking) by whichever path this worker has."""
    request = job.request
    if not job.images:
        raise GenerationError(_("/{command} needs an image.", command="upscale"))
    image = job.images[0].convert("RGB")
    size = (request.width, request.height)
    entry = pipes.entry_for(JobKind.UPSCALE, request.model)
    pipe = pipes.get(JobKind.UPSCALE, entry.name)
    started = time.perf_counter()
    if entry.serves(Task.UPSCALE):
        result, flagged = _with_upscaler(entry.spec, pipe, image, job, pipes.settings.upscale_side())
    else:
        result, flagged = _refined(pipe, image.resize(size, Image.Resampling.LANCZOS), job,
                                   pipes.settings.upscale_strength, pipes.settings.image_size())
    model = pipes.model_label(entry)
    if result.size != size:
        result = result.resize(size, Image.Resampling.LANCZOS)
    notes = [] if len(job.images) == 1 else ["only the first image was upscaled"]
    return GenerationResult(frames=[result], is_video=False, model=model, seconds=time.perf_counter() - started,
                            flagged=flagged, notes=notes)


def model_input(image: Image.Image, longest: int) -> Image.Image:
    """The image as an upscale model takes it: shrunk (never grown) to `longest` px a side, sides snapped down
    to MULTIPLE."""
    scale = min(1.0, longest / max(image.size))
    w, h = (max(MULTIPLE, int(v * scale) // MULTIPLE * MULTIPLE) for v in image.size)
    return image if (w, h) == image.size else image.resize((w, h), Image.Resampling.LANCZOS)


def _with_upscaler(family: Family, pipe: Any, image: Image.Image, job: Job,
                   cap: int) -> tuple[Image.Image, bool]:
    """The upscale model's result for `image` (at its own factor) and whether its safety checker flagged it."""
    import torch

    request = job.request
    steps = request.steps
    low = model_input(image, cap // SD_UPSCALE_FACTOR)
    call: dict[str, Any] = dict(
        prompt=[model_prompt(request.prompt)], image=[low], num_inference_steps=steps,
        negative_prompt=[request.negative_prompt] if request.negative_prompt else None,
        noise_level=SD_UPSCALE_NOISE_LEVEL,
        generator=[torch.Generator(device="cpu").manual_seed(request.seed)],
        # The SD upscaler still takes the older per-step `callback(step, timestep, latents)`.
        callback=_old_style(_stepper(job, steps)), callback_steps=1,
    )
    if family.guidance and family.guidance_default is not None:
        call[family.guidance] = family.guidance_default
    with torch.inference_mode():
        out = pipe(**call)
    return out.images[0].convert("RGB"), bool((getattr(out, "nsfw_content_detected", None) or [False])[0])


def _refined(pipe: Any, image: Image.Image, job: Job, strength: float, tile: int) -> tuple[Image.Image, bool]:
    """`image` (already at the result's size) refined by an image-to-image pipeline, tile by tile, blended."""
    import numpy as np
    import torch

    request = job.request
    steps, per_tile = partial_steps(request.steps, strength)
    boxes = tile_boxes(image.size, tile)
    step = _stepper(job, per_tile * len(boxes))
    total = np.zeros((image.height, image.width, 3), dtype=np.float64)
    weight = np.zeros((image.height, image.width, 1), dtype=np.float64)
    flagged = False
    for box in boxes:
        with torch.inference_mode():
            out = pipe(prompt=[model_prompt(request.prompt)], image=[image.crop(box)], strength=strength,
                       negative_prompt=[request.negative_prompt] if request.negative_prompt else None,
                       num_inference_steps=steps,
                       generator=[torch.Generator(device="cpu").manual_seed(request.seed)],
                       callback_on_step_end=_new_style(step))
        flagged = flagged or bool((getattr(out, "nsfw_content_detected", None) or [False])[0])
        refined = out.images[0].convert("RGB")
        w, h = box[2] - box[0], box[3] - box[1]
        if refined.size != (w, h):
            refined = refined.resize((w, h), Image.Resampling.LANCZOS)
        mask = feather(w, h)
        total[box[1]:box[3], box[0]:box[2]] += np.asarray(refined, dtype=np.float64) * mask
        weight[box[1]:box[3], box[0]:box[2]] += mask
    blended = (total / np.maximum(weight, 1e-9)).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(blended), flagged


def tile_boxes(size: tuple[int, int], tile: int, overlap: int | None = None) -> list[Box]:
    """Overlapping tiles of at most `tile` px a side (sides multiples of MULTIPLE) covering an image of
    `size`; one box when it fits. Neighbours overlap by `overlap` (default an eighth of a tile) or more."""
    tile = max(MULTIPLE, tile // MULTIPLE * MULTIPLE)
    overlap = tile // 8 if overlap is None else overlap

    def starts(length: int) -> list[int]:
        if length <= tile:
            return [0]
        n = -(-(length - overlap) // (tile - overlap))  # ceil: tiles along this side
        return [round(i * (length - tile) / (n - 1)) for i in range(n)]

    width, height = size
    tw, th = min(tile, width), min(tile, height)
    return [(x, y, x + tw, y + th) for y in starts(height) for x in starts(width)]


def feather(width: int, height: int) -> Any:
    """A tile's blending weights (height x width x 1): highest in the middle, falling off linearly towards
    every edge, never zero, so overlapping tiles cross-fade and a pixel one tile covers keeps its value."""
    import numpy as np

    def ramp(n: int) -> Any:
        i = np.arange(n, dtype=np.float64)
        return np.minimum(i + 1, n - i)

    return np.minimum.outer(ramp(height), ramp(width))[:, :, None]


def _stepper(job: Job, total: int) -> StepFn:
    """Counts steps done: progress for the job, and a stop at the next step once it asked to."""
    done = [0]

    def step() -> None:
        if job.stopped():
            raise GenerationCancelled(f"job {job.request.job_id} stopped after step {done[0]}")
        done[0] += 1
        if job.progress is not None:
            job.progress(min(done[0], total), total)

    return step


def _old_style(step: StepFn) -> Callable[[int, Any, Any], None]:
    return lambda _i, _t, _latents: step()


def _new_style(step: StepFn) -> Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]:
    """diffusers' `callback_on_step_end`, replacing no tensors."""
    def on_step_end(_pipe: Any, _i: int, _t: Any, _kwargs: dict[str, Any]) -> dict[str, Any]:
        step()
        return {}

    return on_step_end
