"""Make a file fit a platform's upload limits, keeping its soundtrack and its AI labels.

Adapters pass their platform's limits in (`UploadLimits`). A file that fits goes unchanged; a larger one is
re-encoded down one ladder: images at falling quality and size, keeping their XMP packet (the IPTC
`DigitalSourceType` label); videos re-encoded to H.264 at rising CRF and falling size, keeping the
container's tags (the same label) and copying the audio track as it is; a video that cannot get small
enough may become a still of its first frame. Blocking (PIL / PyAV): call through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from PIL import Image

from core.media.codecs import encode_webp, first_video_frame, open_av, open_pil, sniffed_mime

# Each image re-encode tried in order until one fits: (scale of each side, quality).
IMAGE_STEPS = tuple((scale, quality) for scale in (1.0, 0.75, 0.5, 0.35, 0.25, 0.15, 0.1) for quality in (80, 55, 30))
# Each video re-encode tried in order until one fits: (x264 CRF, scale of each side).
VIDEO_STEPS = ((26, 1.0), (30, 1.0), (34, 0.75), (38, 0.5), (42, 0.35), (45, 0.25))
ImageFormat = Literal["JPEG", "WEBP"]
_EXTENSIONS: dict[str, str] = {"JPEG": "jpg", "WEBP": "webp"}


@dataclass(frozen=True)
class UploadLimits:
    """What one upload to a platform may be."""

    max_bytes: int
    headroom: float = 1.0  # the share of `max_bytes` a re-encode may fill (Discord counts the multipart envelope)
    image_format: ImageFormat = "WEBP"  # what smaller images are encoded as
    max_side_sum: int | None = None  # width + height an image may have (Telegram photos)
    still_fallback: bool = False  # a video that cannot fit becomes a still of its first frame

    @property
    def budget(self) -> int:
        return int(self.max_bytes * self.headroom)


@dataclass(frozen=True)
class Fitted:
    """What to upload: the file itself, or a smaller rendition of it."""

    data: bytes
    mime: str
    filename: str
    reencoded: bool = False
    still: bool = False  # a still of the video's first frame, because no re-encode of the video fitted


def fits_as_is(size: int, mime: str, limits: UploadLimits) -> bool:
    """Whether a file of `size` bytes goes up unchanged, known without reading it: exactly when `fit_upload`
    would return it as it is and need not look inside (an image under a side limit must be opened for that)."""
    return size <= limits.max_bytes and (limits.max_side_sum is None or not mime.startswith("image/"))


def fit_upload(data: bytes, mime: str, filename: str, limits: UploadLimits) -> Fitted | None:
    """`data` when it fits `limits`, else a smaller rendition; None if nothing small enough can be made."""
    if mime.startswith("image/"):
        return fit_image(data, mime, filename, limits)
    if mime.startswith("video/"):
        return fit_video(data, mime, filename, limits)
    return Fitted(data, mime, filename) if len(data) <= limits.max_bytes else None


def fit_image(data: bytes, mime: str, filename: str, limits: UploadLimits) -> Fitted | None:
    """The image itself when it fits, else re-encoded smaller in `limits.image_format`, XMP label kept."""
    img = open_pil(data)
    w, h = img.size
    if len(data) <= limits.max_bytes and (limits.max_side_sum is None or w + h <= limits.max_side_sum):
        return Fitted(data, mime, filename)
    base = 1.0 if limits.max_side_sum is None else min(1.0, (limits.max_side_sum - 1) / (w + h))
    small = _shrink_image(img, limits.budget, limits.image_format, base)
    if small is None:
        return None
    return Fitted(small, f"image/{limits.image_format.lower()}",
                  f"{_stem(filename)}.{_EXTENSIONS[limits.image_format]}", reencoded=True)


def fit_video(data: bytes, mime: str, filename: str, limits: UploadLimits) -> Fitted | None:
    """The video itself when it fits, else an H.264 re-encode with its sound and tags, else (if allowed) a still."""
    if len(data) <= limits.max_bytes:
        return Fitted(data, mime, filename)
    for crf, scale in VIDEO_STEPS:
        out = transcode_mp4(data, crf=crf, scale=scale, mime=mime)
        if len(out) <= limits.budget:
            return Fitted(out, "video/mp4", f"{_stem(filename)}.mp4", reencoded=True)
    if not limits.still_fallback:
        return None
    still = _shrink_image(first_video_frame(data, mime=sniffed_mime(data, mime)), limits.budget, "WEBP")
    if still is None:
        return None
    return Fitted(still, "image/webp", f"{_stem(filename)}-still.webp", reencoded=True, still=True)


def transcode_mp4(data: bytes, *, crf: int, scale: float, mime: str = "video/mp4") -> bytes:
    """Re-encode the first video track to streamable H.264 MP4 at `scale`, keeping the container's tags (the
    AI labels), each frame's timing, and the first audio track as it is (copied, not re-encoded)."""
    import av

    with tempfile.TemporaryDirectory(prefix="reelsmith-fit-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        with open_av(data, sniffed_mime(data, mime)) as src:
            vin = src.streams.video[0]
            ain = src.streams.audio[0] if src.streams.audio else None
            w = max(2, int(vin.codec_context.width * scale) // 2 * 2)
            h = max(2, int(vin.codec_context.height * scale) // 2 * 2)
            with av.open(path, mode="w", format="mp4", options={"movflags": "use_metadata_tags+faststart"}) as dst:
                for key, value in src.metadata.items():
                    dst.metadata[key] = value
                vout = dst.add_stream("libx264", rate=vin.average_rate or Fraction(24))
                vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
                vout.options = {"crf": str(crf), "preset": "veryfast"}
                # Every stream must exist before the first packet is muxed (the header is written then).
                aout = dst.add_stream_from_template(ain) if ain is not None else None
                for packet in src.demux(*([vin] if ain is None else [vin, ain])):
                    if packet.stream is vin:
                        for frame in packet.decode():
                            _mux_frame(dst, vout, frame, w, h)
                    elif packet.dts is not None:  # the demuxer's empty flush packet carries nothing
                        packet.stream = aout
                        dst.mux(packet)
                for out_packet in vout.encode():
                    dst.mux(out_packet)
        with open(path, "rb") as fh:
            return fh.read()


def _mux_frame(dst: Any, vout: Any, frame: Any, w: int, h: int) -> None:
    scaled = frame.reformat(width=w, height=h, format="yuv420p")
    scaled.pts, scaled.time_base = frame.pts, frame.time_base  # the audio stays in step
    for packet in vout.encode(scaled):
        dst.mux(packet)


def _xmp(img: Image.Image) -> bytes | None:
    raw = img.info.get("XML:com.adobe.xmp") or img.info.get("xmp")
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return raw if isinstance(raw, bytes) and raw else None


def _shrink_image(img: Image.Image, budget: int, fmt: ImageFormat, base: float = 1.0) -> bytes | None:
    """The first rung of the ladder that fits `budget`, with the picture's XMP packet; None if none does."""
    xmp = _xmp(img)
    rgb = img.convert("RGB")
    for scale, quality in IMAGE_STEPS:
        size = (max(1, int(rgb.width * base * scale)), max(1, int(rgb.height * base * scale)))
        frame = rgb if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)
        out = encode_webp(frame, xmp, quality=quality) if fmt == "WEBP" else _jpeg(frame, xmp, quality)
        if len(out) <= budget:
            return out
    return None


def _jpeg(img: Image.Image, xmp: bytes | None, quality: int) -> bytes:
    buf = io.BytesIO()
    extra: dict[str, object] = {"xmp": xmp} if xmp else {}
    img.save(buf, format="JPEG", quality=quality, optimize=True, **extra)
    return buf.getvalue()


def _stem(filename: str) -> str:
    return filename.rsplit(".", 1)[0] or "result"
