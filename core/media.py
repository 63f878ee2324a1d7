"""Media in and out: sniff real types from bytes, decode safely, encode PNG/WebP/MP4/GIF."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction

from PIL import Image

from core.types import MediaType


class MediaError(ValueError):
    """Media a member sent that we cannot use; the message says why and what to do."""


@dataclass(frozen=True)
class Sniffed:
    mime: str
    media_type: MediaType
    extension: str


def sniff(data: bytes) -> Sniffed | None:
    """Identify a file from its first bytes, ignoring its name and declared type."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", MediaType.IMAGE, "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", MediaType.IMAGE, "jpg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", MediaType.IMAGE, "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", MediaType.IMAGE, "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio/wav", MediaType.AUDIO, "wav")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio/mp4", MediaType.AUDIO, "m4a")
        if brand == b"qt  ":
            return Sniffed("video/quicktime", MediaType.VIDEO, "mov")
        return Sniffed("video/mp4", MediaType.VIDEO, "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video/webm", MediaType.VIDEO, "webm")
    if head.startswith(b"OggS"):
        return Sniffed("audio/ogg", MediaType.AUDIO, "ogg")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return Sniffed("audio/mpeg", MediaType.AUDIO, "mp3")
    return None


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an image without trusting it: size is checked before pixels are decompressed."""
    if not data:
        raise MediaError("The attached file is empty. Attach a PNG, JPEG, WebP or GIF image.")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours: same answer
        raise MediaError(
            f"That image has far too many pixels; the limit is {max_pixels:,} pixels. Send a smaller image."
        ) from exc
    except Exception as exc:
        raise MediaError("That file is not an image we can read. Attach a PNG, JPEG, WebP or GIF.") from exc
    w, h = img.size
    if w <= 0 or h <= 0:
        raise MediaError("That image has no pixels.")
    if w * h > max_pixels:
        raise MediaError(
            f"That image is {w}x{h} pixels; the limit is {max_pixels:,} pixels. Send a smaller image."
        )
    try:
        img.load()
    except Exception as exc:
        raise MediaError("That image is damaged and cannot be decoded. Try re-saving it.") from exc
    return img.convert("RGB")


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration_s: float
    frames: int
    has_audio: bool


def probe_video(data: bytes) -> VideoInfo:
    """Read a video's size, length and streams; raise MediaError if it cannot be decoded."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            vstreams = container.streams.video
            if not vstreams:
                raise MediaError("That file has no video track.")
            vs = vstreams[0]
            duration = (
                float(vs.duration * vs.time_base) if vs.duration and vs.time_base
                else (container.duration or 0) / 1_000_000
            )
            frames = vs.frames or 0
            if frames == 0:
                frames = sum(1 for _ in container.decode(video=0))
            return VideoInfo(vs.codec_context.width, vs.codec_context.height, duration, frames,
                             bool(container.streams.audio))
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError("That video is damaged or in a format we cannot read. Try MP4 (H.264).") from exc


def first_video_frame(data: bytes) -> Image.Image:
    """The first decodable frame of a video."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            for frame in container.decode(video=0):
                return frame.to_image().convert("RGB")
    except Exception as exc:
        raise MediaError("That video is damaged or in a format we cannot read.") from exc
    raise MediaError("That video has no frames.")


# ---- encoding ---------------------------------------------------------------------------
def encode_png(img: Image.Image, xmp: bytes | None = None) -> bytes:
    """PNG with an optional XMP packet (iTXt `XML:com.adobe.xmp`)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if xmp:
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, optimize=False)
    return buf.getvalue()


def encode_webp(img: Image.Image, xmp: bytes | None = None, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": quality}
    if xmp:
        kwargs["xmp"] = xmp
    img.save(buf, format="WEBP", **kwargs)
    return buf.getvalue()


def encode_mp4(frames: list[Image.Image], fps: int, metadata: dict[str, str] | None = None,
               crf: int = 20) -> bytes:
    """H.264 (yuv420p) MP4 that plays everywhere; metadata lands in the container's tags."""

    if not frames:
        raise ValueError("no frames to encode")
    w, h = frames[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    # faststart (moov first, so players and Telegram can stream) needs a seekable real file.
    with tempfile.TemporaryDirectory(prefix="reelsmith-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        _write_mp4(path, frames, fps, metadata or {}, crf, w2, h2)
        with open(path, "rb") as fh:
            return fh.read()


def _write_mp4(path: str, frames: list[Image.Image], fps: int, metadata: dict[str, str], crf: int,
               w2: int, h2: int) -> None:
    import av

    with av.open(path, mode="w", format="mp4", options={"movflags": "use_metadata_tags+faststart"}) as out:
        for k, v in metadata.items():
            out.metadata[k] = v
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = w2, h2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for img in frames:
            if img.size != (w2, h2):
                img = img.crop((0, 0, w2, h2))
            for packet in stream.encode(av.VideoFrame.from_image(img.convert("RGB"))):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def encode_gif(frames: list[Image.Image], fps: int) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=max(20, int(1000 / fps)), loop=0)
    return buf.getvalue()
