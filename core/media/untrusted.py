"""Members' files are decoded here only: in the sandbox's helper processes, under the settings' limits.

Every reader of an upload (the submit checks, /verify, /avatar, the face check, the worker's references)
goes through `UntrustedMedia`. A helper opens the file with the demuxer its sniffed type names and checks
the limits from headers and packets before decoding; what comes back is plain data (sizes, raw RGB, PCM),
made into PIL images here. Whatever goes wrong, the caller gets a MediaError that says what to change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from PIL import Image

from core.errors import MediaError
from core.i18n import _
from core.media.audio import PcmAudio, check_audio, decode_audio
from core.media.codecs import (
    MediaLimits,
    Sniffed,
    check_image,
    check_video,
    container_tags,
    first_video_frame,
    image_frames,
    image_xmp,
    open_image,
    open_pil,
    sniff,
    video_frames,
)
from core.media.sandbox import Limits, SandboxCrashed, SandboxOutOfMemory, SandboxTimeout, SandboxUnavailable, shared
from core.types import MediaType

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class UnreadableMedia(MediaError):
    """The file could not be read within the limits (too slow, too much memory, or it killed its helper)."""


@dataclass(frozen=True)
class RawFrame:
    """A decoded picture as plain RGB bytes: what comes back from a helper instead of a pickled image."""

    width: int
    height: int
    rgb: bytes

    @classmethod
    def of(cls, img: Image.Image) -> RawFrame:
        rgb = img.convert("RGB")
        return cls(rgb.width, rgb.height, rgb.tobytes())

    def image(self) -> Image.Image:
        return Image.frombytes("RGB", (self.width, self.height), self.rgb)


@dataclass(frozen=True)
class Checked:
    """What a stored reference records about itself."""

    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class VerifyMedia:
    """What /verify needs from a file: its type, its metadata and its (sampled) pixels."""

    media_type: MediaType
    mime: str
    xmp: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    frames: list[RawFrame] = field(default_factory=list)


def media_limits(settings: Settings) -> MediaLimits:
    s = settings
    return MediaLimits(max_pixels=s.max_image_pixels, max_video_seconds=s.max_video_seconds,
                       max_video_frames=s.max_video_frames, max_audio_seconds=s.max_audio_seconds,
                       timeout_s=s.media_timeout_s)


class UntrustedMedia:
    """Decodes members' files in the process-wide sandbox for these settings."""

    def __init__(self, settings: Settings) -> None:
        s = settings
        self.limits = media_limits(s)
        self.sandbox = shared(Limits(memory_mb=s.media_memory_mb, cpu_s=s.media_cpu_s, timeout_s=s.media_timeout_s,
                                     workers=s.media_workers))

    async def check(self, data: bytes, kind: Sniffed, max_frames: int) -> Checked:
        """Decode what any job could need from an attachment (all of it): refused now, not after rendering."""
        return await self._run(check_upload, data, kind, self.limits, max_frames)

    async def image(self, data: bytes) -> Image.Image:
        """An image reference, decoded with the pixel cap."""
        [img] = await _images([await self._run(_image, data, self.limits.max_pixels)])
        return img

    async def picture(self, data: bytes, media_type: MediaType) -> Image.Image:
        """An image, or a video's first frame."""
        if media_type == MediaType.IMAGE:
            return await self.image(data)
        [img] = await _images([await self._run(_first_frame, data, self.limits)])
        return img

    async def video_frames(self, data: bytes, *, count: int | None = None, max_frames: int = 161,
                           size: tuple[int, int] | None = None,
                           max_side: int | None = None) -> tuple[list[Image.Image], float]:
        """`core.media.codecs.video_frames` in a helper."""
        raws, fps = await self._run(_video_frames, data, self.limits, count, max_frames, size, max_side)
        return await _images(raws), fps

    async def image_frames(self, data: bytes, max_frames: int,
                           max_side: int | None = None) -> tuple[list[Image.Image], float]:
        """`core.media.codecs.image_frames` in a helper."""
        raws, fps = await self._run(_image_frames, data, self.limits.max_pixels, max_frames, max_side)
        return await _images(raws), fps

    async def audio(self, data: bytes, max_seconds: float | None = None) -> PcmAudio:
        """An audio reference as 48 kHz stereo PCM."""
        return await self._run(decode_audio, data, max_seconds, None, self.limits.timeout_s)

    async def for_verify(self, data: bytes, frames: int, max_side: int) -> VerifyMedia:
        """The metadata and pixels /verify reads (see `read_for_verify`)."""
        return await self._run(read_for_verify, data, self.limits, frames, max_side)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        timeout = self.sandbox.limits.timeout_s
        try:
            return await self.sandbox.run(fn, *args)
        except MediaError:
            raise
        except SandboxTimeout:
            raise UnreadableMedia(_("That file took too long to read (over {seconds} s), so I stopped. Send a "
                                    "smaller or shorter file, or re-save it as MP4 (H.264), PNG or MP3.",
                                    seconds=f"{timeout:g}")) from None
        except (SandboxOutOfMemory, MemoryError):
            raise UnreadableMedia(_("That file needs more memory to read than I allow. Send one with fewer pixels "
                                    "or a shorter clip.")) from None
        except SandboxUnavailable:
            log.error("no untrusted-media helper could be started")
            raise UnreadableMedia(_("I can't read files right now (my decoder did not start). Try again in a "
                                    "minute.")) from None
        except SandboxCrashed:
            raise UnreadableMedia(_("Reading that file stopped the decoder (it may be damaged, or need more time "
                                    "or memory than allowed). Re-save it as MP4 (H.264), PNG or MP3 and try "
                                    "again.")) from None
        except Exception as exc:
            log.warning("reading a member's file failed (%s)", type(exc).__name__)
            raise UnreadableMedia(_("I could not read that file. Re-save it as MP4 (H.264), PNG or MP3 and try "
                                    "again.")) from exc


async def _images(raws: list[RawFrame]) -> list[Image.Image]:
    """PIL images of a helper's frames, made off the event loop (a clip's worth is hundreds of MB)."""
    return await asyncio.to_thread(lambda: [r.image() for r in raws])


# ---- run in the helper process: plain data in, plain data out ---------------------------------
def check_upload(data: bytes, kind: Sniffed, limits: MediaLimits, max_frames: int) -> Checked:
    """Everything a job may take from the file, decoded once: images with their animation frames (up to
    `max_frames`), every frame of a video, an audio file to PCM (it must have samples)."""
    if kind.media_type == MediaType.IMAGE:
        width, height = check_image(data, limits.max_pixels, max_frames)
        return Checked(width, height)
    if kind.media_type == MediaType.VIDEO:
        info = check_video(data, limits, kind.mime)
        return Checked(info.width, info.height, info.duration_s)
    return Checked(duration_s=check_audio(data, limits, kind.mime))


def read_for_verify(data: bytes, limits: MediaLimits, frames: int, max_side: int) -> VerifyMedia:
    """An image's XMP and pixels, or a video's tags and `frames` frames spread over it (shrunk to `max_side`),
    under the same limits as references."""
    kind = sniff(data)
    if kind is None or kind.media_type not in (MediaType.IMAGE, MediaType.VIDEO):
        raise MediaError(_("/verify checks images (PNG, JPEG, WebP, GIF) and videos (MP4, WebM). Attach one."))
    if kind.media_type == MediaType.IMAGE:
        try:
            xmp = image_xmp(open_pil(data))
        except Exception:
            xmp = ""  # open_image below says what is wrong with the file
        return VerifyMedia(kind.media_type, kind.mime, xmp=xmp,
                           frames=[RawFrame.of(open_image(data, limits.max_pixels))])
    return VerifyMedia(kind.media_type, kind.mime, tags=container_tags(data, kind.mime, limits.timeout_s),
                       frames=_raw(video_frames(data, frames, max_side=max_side, limits=limits, mime=kind.mime,
                                                stretch=False)[0]))


def _image(data: bytes, max_pixels: int) -> RawFrame:
    return RawFrame.of(open_image(data, max_pixels))


def _first_frame(data: bytes, limits: MediaLimits) -> RawFrame:
    return RawFrame.of(first_video_frame(data, limits))


def _video_frames(data: bytes, limits: MediaLimits, count: int | None, max_frames: int,
                  size: tuple[int, int] | None, max_side: int | None) -> tuple[list[RawFrame], float]:
    frames, fps = video_frames(data, count, max_frames, size, max_side, limits)
    return _raw(frames), fps


def _image_frames(data: bytes, max_pixels: int, max_frames: int,
                  max_side: int | None) -> tuple[list[RawFrame], float]:
    frames, fps = image_frames(data, max_pixels, max_frames, max_side)
    return _raw(frames), fps


def _raw(frames: list[Image.Image]) -> list[RawFrame]:
    """One RawFrame per distinct picture (a short clip stretched to a count repeats frames: they share it)."""
    seen: dict[int, RawFrame] = {}
    out = []
    for img in frames:
        if id(img) not in seen:
            seen[id(img)] = RawFrame.of(img)
        out.append(seen[id(img)])
    return out
