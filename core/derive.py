"""A new job from a finished one, as result buttons make them (Reroll, Variations, Upscale, Zoom, Extend ...), and
how long finished jobs are kept. Every feature's buttons derive their requests here, so they agree on what a
derived job keeps of its original and what it decides afresh."""

from __future__ import annotations

import secrets

from core.errors import Refusal
from core.types import GenerationReply, GenerationRequest, MediaRef, MediaType, Requester

MAX_SEED = 2**32 - 1


def fresh(original: GenerationRequest, requester: Requester, **changes: object) -> GenerationRequest:
    """The original's settings as a new job for `requester`: a new id and seed; what was said about the original
    (its notes) and decided about it (the NSFW verdict: the guards decide again) dropped; then `changes`."""
    data = original.model_dump()
    for said_about_the_original in ("job_id", "created_at"):
        data.pop(said_about_the_original)
    data.update(requester=requester.model_dump(), seed=secrets.randbelow(MAX_SEED + 1), notes=[],
                nsfw_allowed=False)
    data.update(changes)
    return GenerationRequest.model_validate(data)


def result_image(reply: GenerationReply | None, index: int = 1) -> MediaRef:
    """Image `index` (1-based) of a finished image result, as a reference for a new job."""
    if reply is None or reply.error or reply.kind.is_video or not reply.media:
        raise Refusal("This button needs a finished image result.", "invalid")
    if not 1 <= index <= len(reply.media) or not reply.media[index - 1].mime.startswith("image/"):
        raise Refusal(f"That result has no image {index}. Use the buttons under it.", "invalid")
    m = reply.media[index - 1]
    return MediaRef(blob_key=m.blob_key, mime=m.mime, media_type=MediaType.IMAGE, name=m.filename,
                    size=m.size, width=m.width, height=m.height)


def kept_for(seconds: int) -> str:
    """How long results are kept (`result_ttl_s`), in words: "7 days", "12 hours"."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:g} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:g} hours"
    return f"{max(1, seconds // 60)} minutes"
