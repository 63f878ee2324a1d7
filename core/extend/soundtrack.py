"""The source clip's own soundtrack for an extended clip (the worker fits it to the new length)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.errors import MediaError
from core.media.audio import PcmAudio
from core.media.untrusted import UnreadableMedia, UntrustedMedia
from core.types import GenerationRequest, MediaType


async def source_soundtrack(media: UntrustedMedia, request: GenerationRequest,
                            read: Callable[[str], Awaitable[bytes]]) -> PcmAudio | None:
    """The sound of the clip an extend job continues, or None when it had none (a silent clip, a GIF)."""
    ref = next((r for r in request.references if r.media_type == MediaType.VIDEO), None)
    if ref is None or not ref.mime.startswith("video/"):
        return None
    try:
        return await media.audio(await read(ref.blob_key))
    except UnreadableMedia:
        raise  # this host's helper limits, not a silent clip: the job fails (refunded)
    except MediaError:
        return None  # no audio track
