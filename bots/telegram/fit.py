"""Make results fit Telegram's upload limits: photos up to 10 MB (sides within limits), videos up to 50 MB.

Blocking (CPU) work: call these through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction

from PIL import Image

PHOTO_MAX_SIDE_SUM = 10_000  # sendPhoto: width + height
PHOTO_MAX_RATIO = 20.0
# Re-encodes tried in order until one fits: (JPEG quality or x264 CRF, scale of each side).
PHOTO_STEPS = ((90, 1.0), (80, 1.0), (70, 0.75), (60, 0.5), (50, 0.35), (40, 0.25), (30, 0.12))
VIDEO_STEPS = ((26, 1.0), (30, 0.75), (34, 0.5), (38, 0.35), (42, 0.25))


class CannotFit(ValueError):
    """No re-encode got under the limit."""


@dataclass(frozen=True)
class Fitted:
    data: bytes
    mime: str
    reencoded: bool


def fit_photo(data: bytes, mime: str, limit: int) -> Fitted | None:
    """Bytes sendPhoto accepts: the original when it fits, else a JPEG re-encode; None if the shape never can."""
    img = Image.open(io.BytesIO(data))
    w, h = img.size
    if max(w / h, h / w) > PHOTO_MAX_RATIO:
        return None
    if len(data) <= limit and w + h <= PHOTO_MAX_SIDE_SUM:
        return Fitted(data, mime, False)
    rgb = img.convert("RGB")
    base = min(1.0, (PHOTO_MAX_SIDE_SUM - 1) / (w + h))
    for quality, scale in PHOTO_STEPS:
        size = (max(1, int(w * base * scale)), max(1, int(h * base * scale)))
        frame = rgb if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        frame.save(buf, format="JPEG", quality=quality, optimize=True)
        if buf.tell() <= limit:
            return Fitted(buf.getvalue(), "image/jpeg", True)
    raise CannotFit(f"photo still over {limit} bytes at the smallest re-encode")


def fit_video(data: bytes, limit: int) -> Fitted:
    """An MP4 under `limit`: the original when it fits, else H.264 re-encodes at rising CRF and falling size."""
    if len(data) <= limit:
        return Fitted(data, "video/mp4", False)
    for crf, scale in VIDEO_STEPS:
        out = transcode_mp4(data, crf=crf, scale=scale)
        if len(out) <= limit:
            return Fitted(out, "video/mp4", True)
    raise CannotFit(f"video still over {limit} bytes at the smallest re-encode")


def transcode_mp4(data: bytes, *, crf: int, scale: float) -> bytes:
    """Re-encode the first video track to streamable H.264 MP4, keeping the container's tags (the AI labels)."""
    import av

    with tempfile.TemporaryDirectory(prefix="reelsmith-tg-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        with av.open(io.BytesIO(data)) as src:
            vin = src.streams.video[0]
            rate = vin.average_rate or Fraction(24)
            w = max(2, int(vin.codec_context.width * scale) // 2 * 2)
            h = max(2, int(vin.codec_context.height * scale) // 2 * 2)
            with av.open(path, mode="w", format="mp4",
                         options={"movflags": "use_metadata_tags+faststart"}) as dst:
                for key, value in src.metadata.items():
                    dst.metadata[key] = value
                vout = dst.add_stream("libx264", rate=rate)
                vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
                vout.options = {"crf": str(crf), "preset": "veryfast"}
                for frame in src.decode(vin):
                    scaled = frame.reformat(width=w, height=h, format="yuv420p")
                    scaled.pts = None
                    for packet in vout.encode(scaled):
                        dst.mux(packet)
                for packet in vout.encode():
                    dst.mux(packet)
        with open(path, "rb") as fh:
            return fh.read()
