"""What a request's references become in the pipeline call: LTX-style video conditions, partial schedules,
and the notes that tell the member which references were not used."""

from __future__ import annotations

import math
from typing import Any

from PIL import Image

from core.types import GenerationRequest

EXTRA_IMAGES_UNUSED = "extra reference images were not used: the image model supports one"
EXTRA_VIDEO_IMAGES_UNUSED = "extra reference images were not used: the video model supports one"
IMAGES_UNDER_VIDEO_UNUSED = "reference images were not used: a video reference drives the whole clip"


def partial_steps(steps: int, strength: float) -> tuple[int, int]:
    """Scheduler steps to ask for and steps that will run when only `strength` of the schedule is denoised.

    Image-to-image (and video restyling) skip the first (1 - strength) of the schedule, so at least
    1 / strength steps are needed for one to run; progress counts the steps that do.
    """
    if strength >= 1:
        return steps, steps
    steps = max(steps, math.ceil(1 / strength))
    return steps, max(1, int(steps * strength))


def video_conditions(request: GenerationRequest, images: list[Image.Image], video: list[Image.Image] | None,
                     notes: list[str]) -> list[Any]:
    """LTX conditions: a reference clip from frame 0, or the images spread over the clip (unused ones in `notes`)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    if video:
        if images:
            notes.append(IMAGES_UNDER_VIDEO_UNUSED)
        return [LTXVideoCondition(video=video, frame_index=0, strength=1.0)]
    # LTX conditions latent frames, 8 video frames each: one image per 8-frame slot at most.
    slots = (request.num_frames - 1) // 8 + 1
    used = min(len(images), slots)
    if used < len(images):
        notes.append(f"{len(images) - used} reference image(s) were not used: a {request.num_frames}-frame "
                     f"clip has room for {slots} (one per 8 frames); ask for more --frames")
    size = (request.width, request.height)
    out = []
    for i in range(used):
        slot = round(i * (slots - 1) / (used - 1)) if used > 1 else 0
        out.append(LTXVideoCondition(image=images[i].convert("RGB").resize(size), frame_index=slot * 8, strength=1.0))
    return out
