"""Make a result fit the upload limit of the channel it goes to: re-encode smaller, or send a smaller rendition.

Blocking (PIL / PyAV): call through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

from PIL import Image

from core.media import encode_mp4, encode_webp

# Leave room for the multipart envelope Discord counts against the limit.
HEADROOM = 0.95


@dataclass(frozen=True)
class Fitted:
    data: bytes
    filename: str
    note: str = ""  # tells the member what was changed, if anything


def fit(data: bytes, mime: str, filename: str, limit: int) -> Fitted | None:
    """The result itself when it fits, else a smaller version; None if nothing small enough can be made."""
    if len(data) <= limit:
        return Fitted(data, filename)
    budget = int(limit * HEADROOM)
    stem = filename.rsplit(".", 1)[0] or "result"
    if mime.startswith("image/"):
        small = _shrink_image(Image.open(io.BytesIO(data)), budget)
        if small is not None:
            return Fitted(small, f"{stem}.webp", "Re-encoded smaller to fit this channel's upload limit.")
        return None
    if mime.startswith("video/"):
        frames, fps, tags = _decode_video(data)
        small = _shrink_video(frames, fps, tags, budget)
        if small is not None:
            return Fitted(small, f"{stem}.mp4", "Re-encoded smaller to fit this channel's upload limit.")
        still = _shrink_image(frames[0], budget)  # last resort: a still of the first frame
        if still is not None:
            return Fitted(still, f"{stem}-still.webp",
                          "The video is too large for this channel's upload limit; here is its first frame.")
    return None


def _xmp(img: Image.Image) -> bytes | None:
    raw = img.info.get("XML:com.adobe.xmp") or img.info.get("xmp")
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return raw if isinstance(raw, bytes) else None


def _shrink_image(img: Image.Image, budget: int) -> bytes | None:
    xmp = _xmp(img)  # keep the AI-provenance metadata in the smaller copy
    rgb = img.convert("RGB")
    for scale in (1.0, 0.75, 0.5, 0.35, 0.25, 0.15, 0.1):
        size = (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
        frame = rgb if scale == 1.0 else rgb.resize(size, Image.Resampling.LANCZOS)
        for quality in (80, 55, 30):
            out = encode_webp(frame, xmp, quality=quality)
            if len(out) <= budget:
                return out
    return None


def _decode_video(data: bytes) -> tuple[list[Image.Image], int, dict[str, str]]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or Fraction(24)
        tags = dict(container.metadata)
        frames = [f.to_image() for f in container.decode(video=0)]
    return frames, max(1, int(round(float(rate)))), tags


def _shrink_video(frames: list[Image.Image], fps: int, tags: dict[str, str], budget: int) -> bytes | None:
    for scale, crf in ((1.0, 30), (1.0, 38), (0.75, 40), (0.5, 42), (0.35, 45)):
        size = (max(2, int(frames[0].width * scale)), max(2, int(frames[0].height * scale)))
        scaled = frames if scale == 1.0 else [f.resize(size, Image.Resampling.BILINEAR) for f in frames]
        out = encode_mp4(scaled, fps, tags, crf=crf)
        if len(out) <= budget:
            return out
    return None
