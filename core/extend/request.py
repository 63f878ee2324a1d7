"""The job an Extend makes from a finished video result: the same prompt and look, a new seed, the source clip
as its video reference, `num_frames` = the frames it adds (what it is priced by), the whole within `max_frames`."""

from __future__ import annotations

import secrets

from core.errors import Refusal
from core.models.catalog import catalog_for
from core.models.tasks import Task
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, MediaRef, MediaType, Requester

STEP = 8  # added frames come in steps of 8 (one LTX latent frame), so every run is a valid 8k+1 length
MAX_SEED = 2**32 - 1


def added_frames(seconds: float, fps: int) -> int:
    """Frames `seconds` add at `fps`, in whole steps of STEP (at least one)."""
    return max(STEP, round(seconds * fps / STEP) * STEP)


def source_length(original: GenerationRequest, reply: GenerationReply) -> int:
    """Frames of the delivered clip (a label card included), from its duration; else from the request."""
    duration = reply.media[0].duration_s
    if duration:
        return max(1, round(duration * original.fps))
    return original.source_frames + original.num_frames if original.kind == JobKind.EXTEND else original.num_frames


def source_clip(reply: GenerationReply | None) -> MediaRef:
    """The finished clip as a video reference; refuses anything else."""
    if reply is None or reply.error or not reply.media or not reply.kind.is_video:
        raise Refusal("Extend needs a finished video result. Wait until the video is posted, then press it.",
                      "invalid")
    m = reply.media[0]
    return MediaRef(blob_key=m.blob_key, mime=m.mime, media_type=MediaType.VIDEO, name=m.filename, size=m.size,
                    width=m.width, height=m.height, duration_s=m.duration_s)


def _model(settings: Settings, original: GenerationRequest) -> str:
    """The source's model where it can continue a clip; else "" (this chat's image-to-video default settles it)."""
    entry = catalog_for(settings).entry(original.model) if original.model else None
    if entry is not None and (entry.serves(Task.IMAGE_TO_VIDEO) or entry.serves(Task.VIDEO_TO_VIDEO)):
        return entry.name
    return ""


def extend_request(settings: Settings, original: GenerationRequest, reply: GenerationReply | None,
                   requester: Requester, *, seconds: float | None = None, prompt: str = "",
                   audio: MediaRef | None = None) -> GenerationRequest:
    """The extend job for `original`'s clip: `seconds` more (default `extend_s`; the Extend button shortens it
    to what fits), or a Refusal that says what is wrong and what to do. `audio` is the source's soundtrack
    reference where it is still stored (the new part continues it)."""
    clip = source_clip(reply)
    assert reply is not None
    fps = original.fps
    have = source_length(original, reply)
    room = (settings.max_frames - have) // STEP * STEP
    added = added_frames(seconds or settings.extend_s, fps)
    limit = (f"clips here are at most {settings.max_frames} frames ({settings.max_frames / fps:g} s) and this one "
             f"is {have} ({have / fps:g} s)")
    if room < STEP:
        raise Refusal(f"This clip can't be extended: {limit}. Send a new /video command for a fresh clip.",
                      "limit")
    if added > room:
        if seconds is not None:
            raise Refusal(f"Extending by {seconds:g} s is too long: {limit}. Ask for at most --duration "
                          f"{room / fps:g}.", "limit")
        added = room  # the button's default: as much as fits
    data = original.model_dump()
    for unset in ("job_id", "created_at"):
        data.pop(unset)
    data.update(
        kind=JobKind.EXTEND, requester=requester.model_dump(), seed=secrets.randbelow(MAX_SEED + 1),
        prompt=prompt or original.prompt, num_frames=added, source_job=original.job_id, source_frames=have,
        references=[clip.model_dump(), *([audio.model_dump()] if audio else [])], model=_model(settings, original),
        cost_factor=1.0, notes=[], nsfw_allowed=False,  # the guards decide again for the new job
        meme_top="", meme_bottom="", fit_audio=False,  # captions and timing are in the source's frames already
    )
    return GenerationRequest.model_validate(data)
