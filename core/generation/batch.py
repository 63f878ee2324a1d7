"""Which requests can share one pipeline call (micro-batching): the batch key."""

from __future__ import annotations

from typing import Any

from core.types import GenerationRequest, JobKind

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
    loras = tuple((lora.name, lora.weight) for lora in request.loras)  # one call runs one set of LoRAs
    return (request.kind, request.model, request.width, request.height, request.steps, request.num_frames, loras,
            request.strength)  # one call runs one image-to-image strength
