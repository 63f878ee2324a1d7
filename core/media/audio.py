"""Audio references and soundtracks: probe, decode to PCM, fit to a clip's length, hand to the MP4 muxer.

Everything is resampled to one format (48 kHz stereo float) so that a member's MP3/OGG/WAV/M4A and a
model's generated waveform take the same path into the AAC track.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import MediaError
from core.i18n import _
from core.media.codecs import MediaLimits, open_av, sniffed_mime

RATE = 48_000
CHANNELS = 2


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class PcmAudio:
    """Planar float32 samples, shape (CHANNELS, n), at RATE."""

    samples: np.ndarray
    rate: int = RATE

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.rate


def probe_audio(data: bytes, mime: str | None = None, timeout_s: float = 30.0) -> AudioInfo:
    """Length and format of an audio file; MediaError if it has no decodable audio."""
    try:
        with open_av(data, sniffed_mime(data, mime), timeout_s) as container:
            if not container.streams.audio:
                raise MediaError(_("That file has no audio track."))
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            else:  # raw streams without a header length: count the samples
                duration = sum(f.samples for f in container.decode(audio=0)) / (stream.rate or RATE)
            return AudioInfo(duration, int(stream.rate or 0), int(stream.channels or 0))
    except (MediaError, MemoryError):
        raise
    except Exception as exc:
        raise MediaError(_("That audio file is damaged or in a format we cannot read. Try MP3, M4A or WAV.")) from exc


def decode_audio(data: bytes, max_seconds: float | None = None, mime: str | None = None,
                 timeout_s: float = 30.0) -> PcmAudio:
    """Decode the first audio track to 48 kHz stereo float (at most `max_seconds` of it)."""
    import av

    limit = int(max_seconds * RATE) if max_seconds else None
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with open_av(data, sniffed_mime(data, mime), timeout_s) as container:
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += out.samples
                if limit is not None and total >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
    except MemoryError:
        raise
    except Exception as exc:
        raise MediaError(_("That audio file could not be decoded. Try MP3, M4A or WAV.")) from exc
    if not chunks:
        raise MediaError(_("That audio file has no sound in it: it has a header but no samples. "
                           "Send a recording that plays (MP3, M4A, OGG or WAV)."))
    samples = np.concatenate(chunks, axis=1).astype(np.float32)
    return PcmAudio(samples[:, :limit] if limit is not None else samples)


def check_audio(data: bytes, limits: MediaLimits = MediaLimits(), mime: str | None = None) -> float:
    """An audio file's length in seconds, after decoding it to PCM once: one that passes has sound and
    decodes in the job. Refused on `limits.max_audio_seconds`, whatever its header claims."""
    limit = limits.max_audio_seconds
    info = probe_audio(data, mime, limits.timeout_s)
    if info.duration_s > limit:
        raise MediaError(_("That audio is {seconds} s long; the limit is {limit} s. Trim it and try again.",
                           seconds=f"{info.duration_s:.0f}", limit=f"{limit:.0f}"))
    # A second past the limit is enough to catch a header that understates the length.
    decoded = decode_audio(data, limit + 1.0, mime, limits.timeout_s).duration_s
    if decoded > limit + 0.5:
        raise MediaError(_("That audio is longer than {limit} s, the limit. Trim it and try again.",
                         limit=f"{limit:.0f}"))

    # The header's length is exact where it is honest (decoders add a few priming samples).
    return info.duration_s if abs(info.duration_s - decoded) < 1.0 else decoded


def from_waveform(waveform: Any, rate: int) -> PcmAudio:
    """A model's waveform (tensor or array, (channels, n) or (n,)) as 48 kHz stereo PCM."""
    import av

    arr = waveform.detach().float().cpu().numpy() if hasattr(waveform, "detach") else np.asarray(waveform)
    arr = np.atleast_2d(arr.astype(np.float32))
    if arr.shape[0] > arr.shape[1]:  # (n, channels) -> (channels, n)
        arr = arr.T
    arr = np.ascontiguousarray(arr[:2])
    layout = "stereo" if arr.shape[0] == 2 else "mono"
    frame = av.AudioFrame.from_ndarray(arr, format="fltp", layout=layout)
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    outs = [*resampler.resample(frame), *resampler.resample(None)]
    return PcmAudio(np.concatenate([o.to_ndarray() for o in outs], axis=1).astype(np.float32))


def fit_to(audio: PcmAudio, duration_s: float, fade_s: float = 0.05) -> PcmAudio:
    """Trim or loop the audio to exactly `duration_s`, with a short fade-out so the cut does not click."""
    n = max(1, int(round(duration_s * audio.rate)))
    src = audio.samples
    if src.shape[1] >= n:
        out = src[:, :n].copy()
    else:
        reps = -(-n // src.shape[1])
        out = np.tile(src, (1, reps))[:, :n].copy()
    fade = min(n, int(fade_s * audio.rate))
    if fade > 1:
        out[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return PcmAudio(out, audio.rate)
