"""Media in and out: sniff real types from bytes, decode safely, encode PNG/WebP/MP4/GIF."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from core.types import MediaType

if TYPE_CHECKING:
    from core.audio import PcmAudio


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
               crf: int = 20, audio: PcmAudio | None = None, audio_bitrate: int = 128_000) -> bytes:
    """H.264 (yuv420p) MP4 that plays everywhere; metadata lands in the container's tags.

    With `audio` (already fitted to the clip's length) the file gets an AAC track as well.
    """

    if not frames:
        raise ValueError("no frames to encode")
    w, h = frames[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    # faststart (moov first, so players and Telegram can stream) needs a seekable real file.
    with tempfile.TemporaryDirectory(prefix="reelsmith-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        _write_mp4(path, frames, fps, metadata or {}, crf, w2, h2, audio, audio_bitrate)
        with open(path, "rb") as fh:
            return fh.read()


def _write_mp4(path: str, frames: list[Image.Image], fps: int, metadata: dict[str, str], crf: int,
               w2: int, h2: int, audio: PcmAudio | None = None, audio_bitrate: int = 128_000) -> None:
    import av

    with av.open(path, mode="w", format="mp4", options={"movflags": "use_metadata_tags+faststart"}) as out:
        for k, v in metadata.items():
            out.metadata[k] = v
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = w2, h2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        # Every stream must exist before the first packet is muxed (the header is written then).
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=audio.rate, layout="stereo")
            astream.bit_rate = audio_bitrate
        for img in frames:
            if img.size != (w2, h2):
                img = img.crop((0, 0, w2, h2))
            for packet in stream.encode(av.VideoFrame.from_image(img.convert("RGB"))):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if audio is not None:
            _write_aac(out, astream, audio)


def _write_aac(out: object, astream: object, audio: PcmAudio) -> None:
    import av

    chunk = 1024  # one AAC frame
    samples = audio.samples
    for start in range(0, samples.shape[1], chunk):
        frame = av.AudioFrame.from_ndarray(samples[:, start:start + chunk].copy(), format="fltp", layout="stereo")
        frame.sample_rate = audio.rate
        frame.pts = start
        for packet in astream.encode(frame):  # type: ignore[attr-defined]
            out.mux(packet)  # type: ignore[attr-defined]
    for packet in astream.encode():  # type: ignore[attr-defined]
        out.mux(packet)  # type: ignore[attr-defined]


def encode_gif(frames: list[Image.Image], fps: int, comment: str = "") -> bytes:
    """A looping GIF; `comment` carries the AI label (GIFs have no richer metadata that survives)."""
    buf = io.BytesIO()
    extra: dict[str, object] = {"comment": comment.encode("utf-8")[:255]} if comment else {}
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=max(20, int(1000 / fps)), loop=0, **extra)
    return buf.getvalue()


# ---- reference frames ----------------------------------------------------------------------
def fit_frame(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop to exactly `size` (the model's width and height)."""
    return ImageOps.fit(img.convert("RGB"), size, Image.Resampling.LANCZOS)


def _shrink(img: Image.Image, max_side: int | None) -> Image.Image:
    img = img.convert("RGB")
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def image_frames(data: bytes, max_pixels: int, max_frames: int,
                 max_side: int | None = None) -> tuple[list[Image.Image], float]:
    """All frames of an image (an animated GIF/WebP has several, up to `max_frames`) and its frame rate.

    Each frame is shrunk to `max_side` as it is decoded, so a big animation never sits in memory whole.
    """
    first = open_image(data, max_pixels)
    img = Image.open(io.BytesIO(data))
    count = getattr(img, "n_frames", 1)
    if count <= 1:
        return [_shrink(first, max_side)], 0.0
    frames = []
    durations = []
    for i in range(min(count, max_frames)):
        img.seek(i)
        frames.append(_shrink(img, max_side))
        durations.append(int(img.info.get("duration", 100) or 100))
    fps = 1000 / (sum(durations) / len(durations))
    return frames, fps


def _count_frames(data: bytes) -> int:
    import av

    with av.open(io.BytesIO(data)) as container:
        vs = container.streams.video[0]
        return int(vs.frames) or sum(1 for _ in container.demux(vs) if _.size)


def video_frames(data: bytes, count: int | None = None, max_frames: int = 161,
                 size: tuple[int, int] | None = None, max_side: int | None = None) -> tuple[list[Image.Image], float]:
    """Frames of a video and its frame rate: the first `max_frames`, or `count` sampled evenly over the clip.

    Only the frames kept are converted, and each is resized (to exactly `size`, or to fit `max_side`)
    as it is decoded, so memory stays proportional to the output, not to the clip.
    """
    import av

    try:
        total = _count_frames(data)
        if total <= 0:
            raise MediaError("That video has no frames.")
        if count is None:
            indices = list(range(min(total, max_frames)))
        else:
            indices = [min(total - 1, int(i * total / count)) for i in range(count)]
        wanted: dict[int, int] = {}
        for i in indices:
            wanted[i] = wanted.get(i, 0) + 1
        last = max(indices)
        frames: list[Image.Image] = []
        with av.open(io.BytesIO(data)) as container:
            vs = container.streams.video[0]
            fps = float(vs.average_rate) if vs.average_rate else 24.0
            for i, frame in enumerate(container.decode(video=0)):
                if i in wanted:
                    img = frame.to_image()
                    img = fit_frame(img, size) if size is not None else _shrink(img, max_side)
                    frames += [img] * wanted[i]
                if i >= last:
                    break
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError("That video is damaged or in a format we cannot read.") from exc
    if not frames:
        raise MediaError("That video has no frames.")
    if count is not None:
        frames = (frames + [frames[-1]] * count)[:count]  # a container that over-reported its frames
        fps = fps * count / total
    return frames, fps
