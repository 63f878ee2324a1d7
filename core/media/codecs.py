"""Media in and out: sniff real types from bytes, decode without trusting them, encode PNG/WebP/MP4/GIF.

Members' files are opened only with the decoder for their sniffed type (FFmpeg never probes, so an SDP or
playlist behind a media prefix is just invalid data), never follow references to other files or the
network, and are refused on size, pixels, frames and duration read from headers and packets before any
frame is decoded. The service calls these through `core.media.untrusted`, which runs them in a limited process.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn

from PIL import Image, ImageOps

from core.errors import MediaError
from core.i18n import N_, _, translate
from core.types import MediaType

if TYPE_CHECKING:
    import numpy as np

    from core.media.audio import PcmAudio


@dataclass(frozen=True)
class Sniffed:
    mime: str
    media_type: MediaType
    extension: str


@dataclass(frozen=True)
class MediaLimits:
    """What reading one member's file may cost. Plain data: it travels into the decoder process."""

    max_pixels: int = 4096 * 4096
    max_video_seconds: float = 60.0
    max_video_frames: int = 3600
    max_audio_seconds: float = 60.0
    timeout_s: float = 30.0  # FFmpeg's own open/read deadline; the sandbox's wall clock is the hard one


# The one demuxer each sniffed container may be opened with.
DEMUXERS = {"video/mp4": "mov", "video/quicktime": "mov", "audio/mp4": "mov", "video/webm": "matroska",
            "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/wav": "wav"}
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# No decoder may run while FFmpeg reads the headers (avformat_find_stream_info decodes up to 7 frames
# of H.264 otherwise): sizes come from the container, and frames are decoded only after the checks.
_NO_DECODERS = "none"


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


def sniffed_mime(data: bytes, mime: str | None = None) -> str:
    """`mime` if the caller sniffed it already, else the type the bytes show ("" for none)."""
    if mime:
        return mime
    kind = sniff(data)
    return kind.mime if kind is not None else ""


# ---- images ---------------------------------------------------------------------------------
def open_pil(data: bytes) -> Image.Image:
    """Pillow with the one decoder the sniffed type names (no other plugin ever looks at the bytes)."""
    fmt = PIL_FORMATS.get(sniffed_mime(data))
    if fmt is None:
        raise MediaError(_("That file is not an image we can read. Attach a PNG, JPEG, WebP or GIF."))
    return Image.open(io.BytesIO(data), formats=[fmt])


def open_image(data: bytes, max_pixels: int, max_side: int | None = None) -> Image.Image:
    """Decode an image without trusting it: size is checked before pixels are decompressed.

    With `max_side` the result is shrunk to fit (as `Image.thumbnail` does), so less crosses processes.
    """
    if not data:
        raise MediaError(_("The attached file is empty. Attach a PNG, JPEG, WebP or GIF image."))
    try:
        img = open_pil(data)
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours: same answer
        raise MediaError(_("That image has far too many pixels; the limit is {limit} pixels. Send a smaller image.",
                           limit=f"{max_pixels:,}")) from exc
    except Exception as exc:
        raise MediaError(_("That file is not an image we can read. Attach a PNG, JPEG, WebP or GIF.")) from exc
    w, h = img.size
    if w <= 0 or h <= 0:
        raise MediaError(_("That image has no pixels."))
    if w * h > max_pixels:
        raise MediaError(_("That image is {width}x{height} pixels; the limit is {limit} pixels. Send a smaller image.",
                           width=w, height=h, limit=f"{max_pixels:,}"))
    try:
        img.load()
    except MemoryError:
        raise
    except Exception as exc:
        raise MediaError(_("That image is damaged and cannot be decoded. Try re-saving it.")) from exc
    return _shrink(img, max_side)


def check_image(data: bytes, max_pixels: int, max_frames: int) -> tuple[int, int]:
    """Decode an image once, with every frame of an animation a job may use: a file that passes decodes in the job."""
    width, height = open_image(data, max_pixels).size
    try:
        img = open_pil(data)
        for i in range(1, min(getattr(img, "n_frames", 1), max_frames)):
            img.seek(i)
            img.load()
    except MemoryError:
        raise
    except Exception as exc:
        raise MediaError(_("That animation is damaged after its first frame. Try re-saving it.")) from exc
    return width, height


def image_xmp(img: Image.Image) -> str:
    """The XMP packet of an opened image ("" when it has none)."""
    raw = img.info.get("XML:com.adobe.xmp") or img.info.get("xmp") or b""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


# ---- audio and video containers ---------------------------------------------------------------
def _refuse_nested_open(url: str, flags: int, options: dict[str, str]) -> NoReturn:
    """Playlists, segments and session descriptions name other files or hosts: none is ever opened."""
    raise PermissionError("a member's file may not open other files or the network")


@contextmanager
def open_av(data: bytes, mime: str, timeout_s: float = 30.0) -> Iterator[Any]:
    """An FFmpeg input for a member's file: the sniffed type's demuxer only, nothing nested, a deadline.

    No decoder runs while the headers are read; video decoders get one thread (predictable memory).
    """
    import av

    demuxer = DEMUXERS.get(mime)
    if demuxer is None:
        raise MediaError(_("That file is not a video or audio format I can read. Try MP4 (H.264), MP3, M4A or WAV."))
    options = {"format_whitelist": demuxer, "protocol_whitelist": "none", "codec_whitelist": _NO_DECODERS}
    with av.open(io.BytesIO(data), format=demuxer, timeout=timeout_s, io_open=_refuse_nested_open,
                 container_options=options) as container:
        for stream in container.streams.video:
            stream.codec_context.thread_count = 1
        yield container


def container_tags(data: bytes, mime: str | None = None, timeout_s: float = 30.0) -> dict[str, str]:
    """The container's metadata tags ({} when there are none or the file cannot be read)."""
    try:
        with open_av(data, sniffed_mime(data, mime), timeout_s) as container:
            return {str(k): str(v) for k, v in container.metadata.items()}
    except Exception:
        return {}


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration_s: float
    frames: int
    has_audio: bool


_UNREADABLE_VIDEO = N_("That video is damaged or in a format we cannot read. Try MP4 (H.264).")


def _video_stream(container: Any) -> Any:
    if not container.streams.video:
        raise MediaError(_("That file has no video track."))
    return container.streams.video[0]


def _check_pixels(width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise MediaError(_("That video does not say how large its frames are; it may be damaged. Try MP4 (H.264)."))
    if width * height > limits.max_pixels:
        raise MediaError(_("That video is {width}x{height}; the limit is {limit} pixels a frame. Send a smaller one.",
                           width=width, height=height, limit=f"{limits.max_pixels:,}"))


def _check_seconds(seconds: float, limits: MediaLimits) -> None:
    if seconds > limits.max_video_seconds:
        raise MediaError(_("That video is {seconds} s long; the limit is {limit} s. Trim it and try again.",
                           seconds=f"{seconds:.0f}", limit=f"{limits.max_video_seconds:.0f}"))


def _check_frame(frame: Any, limits: MediaLimits) -> None:
    """A decoded frame larger than its header said (a mid-stream size change) is refused too."""
    if frame.width * frame.height > limits.max_pixels:
        _check_pixels(frame.width, frame.height, limits)


def _header_seconds(stream: Any, container: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / 1_000_000


def _count_packets(container: Any, stream: Any, limits: MediaLimits) -> tuple[int, float]:
    """Frames (packets with data) and the span their timestamps cover, without decoding any."""
    count = 0
    first: int | None = None
    last: int | None = None
    for packet in container.demux(stream):
        if not packet.size:
            continue  # the demuxer's end-of-stream marker
        count += 1
        if count > limits.max_video_frames:
            raise MediaError(_("That video has more than {limit} frames; the limit is {limit}. Send a shorter clip "
                               "or one with a lower frame rate.", limit=f"{limits.max_video_frames:,}"))
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is not None:
            first = pts if first is None else min(first, pts)
            end = pts + (packet.duration or 0)
            last = end if last is None else max(last, end)
    if first is None or last is None or not stream.time_base:
        return count, 0.0
    return count, float((last - first) * stream.time_base)


def probe_video(data: bytes, limits: MediaLimits = MediaLimits(), mime: str | None = None) -> VideoInfo:
    """A video's size, length, frame count and streams, from its headers and packets; no frame is decoded.

    Refused on `limits` as soon as a header or the packet count breaks one. The length is the longer of what
    the header says and what the packets span, so neither can understate it.
    """
    try:
        with open_av(data, sniffed_mime(data, mime), limits.timeout_s) as container:
            vs = _video_stream(container)
            width, height = vs.codec_context.width, vs.codec_context.height
            _check_pixels(width, height, limits)
            header_s = _header_seconds(vs, container)
            _check_seconds(header_s, limits)
            has_audio = bool(container.streams.audio)
            frames, span_s = _count_packets(container, vs, limits)
    except (MediaError, MemoryError):
        raise
    except Exception as exc:
        raise MediaError(translate(_UNREADABLE_VIDEO)) from exc
    duration = max(header_s, span_s)
    _check_seconds(duration, limits)
    if frames == 0:
        raise MediaError(_("That video has no frames."))
    return VideoInfo(width, height, duration, frames, has_audio)


def _decoded(data: bytes, limits: MediaLimits, mime: str | None) -> Iterator[tuple[float, Any]]:
    """(frame rate, frame) for each decoded frame, each checked against the pixel limit."""
    try:
        with open_av(data, sniffed_mime(data, mime), limits.timeout_s) as container:
            vs = _video_stream(container)
            _check_pixels(vs.codec_context.width, vs.codec_context.height, limits)
            fps = float(vs.average_rate) if vs.average_rate else 24.0
            for frame in container.decode(vs):
                _check_frame(frame, limits)
                yield fps, frame
    except (MediaError, MemoryError):
        raise
    except Exception as exc:
        raise MediaError(translate(_UNREADABLE_VIDEO)) from exc


def check_video(data: bytes, limits: MediaLimits = MediaLimits(), mime: str | None = None) -> VideoInfo:
    """`probe_video`, then every frame decoded once (none converted): a video that passes decodes in the job."""
    info = probe_video(data, limits, mime)
    if sum(1 for _ in _decoded(data, limits, mime)) == 0:
        raise MediaError(_("That video has no frames I can decode. Try MP4 (H.264)."))
    return info


def first_video_frame(data: bytes, limits: MediaLimits = MediaLimits(), mime: str | None = None,
                      max_side: int | None = None) -> Image.Image:
    """The first decodable frame of a video (shrunk to `max_side` when given)."""
    frames, _fps = _keep(data, [0], limits, mime, lambda img: _shrink(img, max_side))
    return frames[0]


# ---- encoding ---------------------------------------------------------------------------
def encode_png(img: Image.Image, xmp: bytes | None = None, compress_level: int = 6) -> bytes:
    """PNG with an optional XMP packet (iTXt `XML:com.adobe.xmp`)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if xmp:
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, optimize=False, compress_level=compress_level)
    return buf.getvalue()


def encode_webp(img: Image.Image, xmp: bytes | None = None, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": quality}
    if xmp:
        kwargs["xmp"] = xmp
    img.save(buf, format="WEBP", **kwargs)
    return buf.getvalue()


# No 8x8-and-smaller inter partitions (x264's superfast keeps only the intra ones, as here): every clip carries
# the static video mark, and on a panning clip searching them cost 40% more encode for 10% more bytes
# (bench/fast_path.py); on still, grainy and zooming clips the same CRF gives PSNR within 0.2 dB, bytes +-7%.
X264_PARAMS = "partitions=i8x8,i4x4"
# x264's own defaults, for re-encodes that stand for someone else's encoder (the mark's attacks in tests and
# benches): without the partitions it removes a little more of the mark than ours does.
X264_DEFAULTS = ""


def encode_mp4(frames: list[Image.Image], fps: int, metadata: dict[str, str] | None = None,
               crf: int = 20, audio: PcmAudio | None = None, audio_bitrate: int = 128_000,
               luma_change: np.ndarray | None = None, luma_from: int = 0, x264_params: str = X264_PARAMS) -> bytes:
    """H.264 (yuv420p) MP4 that plays everywhere; metadata lands in the container's tags.

    With `audio` (already fitted to the clip's length) the file gets an AAC track as well. With `luma_change`
    (int16 (H, W), in full-range levels, for the first frame's size) every frame from `luma_from` on gets it
    in its Y plane, as `to_yuv420` writes it.
    """

    if not frames:
        raise ValueError("no frames to encode")
    w, h = frames[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    # faststart (moov first, so players and Telegram can stream) needs a seekable real file.
    with tempfile.TemporaryDirectory(prefix="reelsmith-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        levels = None if luma_change is None else _limited_levels(luma_change[:h2, :w2])
        _write_mp4(path, frames, fps, metadata or {}, crf, w2, h2, audio, audio_bitrate, levels, luma_from,
                   x264_params)
        with open(path, "rb") as fh:
            return fh.read()


def _limited_levels(change: np.ndarray) -> np.ndarray:
    """A full-range luma change in the limited-range (16-235) levels of H.264's Y plane."""
    import numpy as np  # here, not at the top: the untrusted-media decoder process never needs it

    return np.rint(change.astype(np.float32) * (219 / 255)).astype(np.int16)


def to_yuv420(img: Image.Image, levels: np.ndarray | None = None) -> Any:
    """The frame as the yuv420p VideoFrame x264 encodes (FFmpeg's own RGB->YUV conversion), with `levels`
    (int16 (H, W), limited-range, from `_limited_levels`) added to its Y plane in place, saturating at
    video black and white (16, 235) as an add to R, G and B saturates at 0 and 255.

    Adding to Y with U and V untouched is what adding the same change to R, G and B does, but the pass
    touches one plane of the frame the encoder converts anyway instead of three RGB channels before it.
    """
    import av
    import numpy as np

    frame = av.VideoFrame.from_image(img if img.mode == "RGB" else img.convert("RGB")).reformat(format="yuv420p")
    if levels is not None:
        plane = frame.planes[0]
        y = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]
        marked = y.astype(np.int16)
        marked += levels
        np.clip(marked, 16, 235, out=marked)
        y[...] = marked
    return frame


def _write_mp4(path: str, frames: list[Image.Image], fps: int, metadata: dict[str, str], crf: int,
               w2: int, h2: int, audio: PcmAudio | None = None, audio_bitrate: int = 128_000,
               levels: np.ndarray | None = None, luma_from: int = 0, x264_params: str = X264_PARAMS) -> None:
    import av

    with av.open(path, mode="w", format="mp4", options={"movflags": "use_metadata_tags+faststart"}) as out:
        for k, v in metadata.items():
            out.metadata[k] = v
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = w2, h2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": x264_params}
        # Every stream must exist before the first packet is muxed (the header is written then).
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=audio.rate, layout="stereo")
            astream.bit_rate = audio_bitrate
        for i, img in enumerate(frames):
            if img.size != (w2, h2):
                img = img.crop((0, 0, w2, h2))
            for packet in stream.encode(to_yuv420(img, levels if i >= luma_from else None)):
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
    img = open_pil(data)
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


def _keep(data: bytes, indices: list[int], limits: MediaLimits, mime: str | None,
          convert: Callable[[Image.Image], Image.Image]) -> tuple[list[Image.Image], float]:
    """The frames at `indices` (repeats allowed), converted as they are decoded; decoding stops after the last."""
    wanted: dict[int, int] = {}
    for i in indices:
        wanted[i] = wanted.get(i, 0) + 1
    last = max(indices)
    frames: list[Image.Image] = []
    fps = 24.0
    try:
        for i, (rate, frame) in enumerate(_decoded(data, limits, mime)):
            fps = rate
            if i in wanted:
                frames += [convert(frame.to_image())] * wanted[i]
            if i >= last:
                break
    except (MediaError, MemoryError):
        raise
    except Exception as exc:  # a frame that decodes but does not convert
        raise MediaError(translate(_UNREADABLE_VIDEO)) from exc
    if not frames:
        raise MediaError(_("That video has no frames."))
    return frames, fps


def video_frames(data: bytes, count: int | None = None, max_frames: int = 161,
                 size: tuple[int, int] | None = None, max_side: int | None = None,
                 limits: MediaLimits = MediaLimits(), mime: str | None = None,
                 *, stretch: bool = True) -> tuple[list[Image.Image], float]:
    """Frames of a video and its frame rate: the first `max_frames`, or `count` sampled evenly over the clip.

    A clip with fewer than `count` frames repeats them to make up the count (the frame rate scaled to match),
    or, without `stretch`, gives each of its frames once (what /verify samples). The clip is checked against
    `limits` from its headers and packets first. Only the frames kept are converted, and each is resized (to
    exactly `size`, or to fit `max_side`) as it is decoded, so memory stays proportional to the output, not
    to the clip.
    """
    total = probe_video(data, limits, mime).frames
    if count is None:
        indices = list(range(min(total, max_frames)))
    else:
        indices = [min(total - 1, int(i * total / count)) for i in range(count)]
        if not stretch:
            indices = sorted(set(indices))
    frames, fps = _keep(data, indices, limits, mime,
                        lambda img: fit_frame(img, size) if size is not None else _shrink(img, max_side))
    if count is not None and stretch:
        frames = (frames + [frames[-1]] * count)[:count]  # a container that over-reported its frames
        fps = fps * count / total
    return frames, fps
