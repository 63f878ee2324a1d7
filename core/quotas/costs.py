"""What a job costs in credits: the kind's base cost, times its size, its steps and (for videos) its length."""

from __future__ import annotations

import math

from core.settings import Settings
from core.types import GenerationRequest


def job_cost(request: GenerationRequest, settings: Settings) -> int:
    """Credits for `request`: base cost per kind, again for each started `quota_cost_pixels` of output (its
    `billed_pixels` where set: a zoom-out pays for its new border only), each started `cost_steps()` denoising
    steps (jobs that run a model: `--steps 60` costs more than 25) and, for videos, each started
    `quota_cost_frames` frames (a 161-frame video costs twice a 97-frame one); all times the model's cost factor
    from the catalog (rounded up, at least 1); several images (`n_images`) cost n times one."""
    base = settings.quota_costs.get(request.kind.value, 1)
    pixels = request.width * request.height if request.billed_pixels is None else request.billed_pixels
    size_units = max(1, math.ceil(pixels / settings.quota_cost_pixels))
    step_units = max(1, math.ceil(request.steps / settings.cost_steps())) if request.kind.uses_model else 1
    length_units = max(1, math.ceil(request.num_frames / settings.quota_cost_frames)) if request.kind.is_video else 1
    one = max(1, math.ceil(base * size_units * step_units * length_units * request.cost_factor - 1e-9))
    return one * request.n_images
