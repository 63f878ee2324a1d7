"""The faces in a reference: every frame of an animated image, frames spread over a whole video.

Frames are decoded in the media sandbox (core/media/untrusted.py); faces are found in a thread, never on the
event loop (core/moderation/identity.py is blocking CPU work).
"""

from __future__ import annotations

import asyncio
import hashlib

from PIL import Image

from core.media.untrusted import UntrustedMedia
from core.moderation.identity import Face, find_faces
from core.settings import Settings
from core.types import MediaType

MAX_SIDE = 1024  # frames are decoded no larger: identity scales them to its own working size anyway


def distinct_frames(frames: list[Image.Image], limit: int) -> list[Image.Image]:
    """Each picture once (a GIF's held frames, a short clip's repeats), then at most `limit` spread evenly."""
    seen: set[bytes] = set()
    unique = []
    for frame in frames:
        small = frame.convert("L").resize((16, 16))
        digest = hashlib.blake2b(bytes(v // 8 for v in small.tobytes()), digest_size=16).digest()
        if digest not in seen:
            seen.add(digest)
            unique.append(frame)
    if len(unique) <= limit:
        return unique
    return [unique[i * len(unique) // limit] for i in range(limit)]


async def reference_frames(data: bytes, media_type: MediaType, settings: Settings) -> list[Image.Image]:
    """The frames of a reference the consent check looks at. Raises MediaError (UnreadableMedia) if unreadable."""
    media = UntrustedMedia(settings)
    if media_type == MediaType.IMAGE:
        frames, _fps = await media.image_frames(data, settings.max_frames, MAX_SIDE)
    else:
        # The job samples its frames evenly over the clip: so does the check, over the same span.
        frames, _fps = await media.video_frames(data, count=settings.consent_video_frames,
                                                max_frames=settings.max_frames, max_side=MAX_SIDE)
    return await asyncio.to_thread(distinct_frames, frames, settings.consent_max_frames)


def _faces_in(frames: list[Image.Image], min_fraction: float) -> list[Face]:
    return [face for frame in frames for face in find_faces(frame, min_fraction)]


async def faces_in(frames: list[Image.Image], settings: Settings) -> list[Face]:
    """Every face in the frames, found in a thread."""
    return await asyncio.to_thread(_faces_in, frames, settings.consent_min_face_fraction)
