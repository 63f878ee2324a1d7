"""What every adapter's Extend test checks of the clips it received."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.media.codecs import video_frames

ADDED = 8  # extend_s 0.3 at 24 fps, in steps of 8


def frames_of(data: bytes) -> list[Image.Image]:
    return video_frames(data)[0]


def diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference (0-255)."""
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b.resize(a.size), dtype=np.float64)).mean())


def assert_extended(source: bytes, extended: bytes) -> None:
    """More frames (the added ones), and the join at the source's last frame (within codec tolerance)."""
    src, new = frames_of(source), frames_of(extended)
    assert len(new) == len(src) + ADDED, (len(src), len(new))
    # The join frame is the source's last one, re-encoded: far closer to it than to any other source frame (the
    # tiny twin's frames are noise, so H.264's own error on them is a few levels and varies with the seed).
    join = diff(new[len(src) - 1], src[-1])
    others = min(diff(new[len(src) - 1], frame) for frame in src[:-1])
    assert join < 12.0 and join < others / 2, (join, others)
