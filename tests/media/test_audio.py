"""Audio references: probe, decode, fit to a clip, mux as AAC."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from core.errors import MediaError
from core.media.audio import decode_audio, fit_to, from_waveform, probe_audio
from core.media.codecs import encode_mp4
from tests.media.helpers import png, wav


def _audio_seconds(mp4: bytes) -> tuple[str, float]:
    with av.open(io.BytesIO(mp4)) as c:
        stream = c.streams.audio[0]
        name = stream.codec_context.name
        samples = sum(f.samples for f in c.decode(audio=0))
        return name, samples / stream.rate


def test_probe_and_decode() -> None:
    info = probe_audio(wav(1.25))
    assert abs(info.duration_s - 1.25) < 0.01 and info.channels == 1
    pcm = decode_audio(wav(1.25))
    assert pcm.samples.shape[0] == 2 and abs(pcm.duration_s - 1.25) < 0.01
    assert abs(decode_audio(wav(3.0), max_seconds=1.0).duration_s - 1.0) < 0.01
    with pytest.raises(MediaError):
        probe_audio(png())


def test_fit_trims_and_loops() -> None:
    pcm = decode_audio(wav(1.0))
    trimmed = fit_to(pcm, 0.4)
    looped = fit_to(pcm, 2.5)
    assert trimmed.samples.shape[1] == round(0.4 * pcm.rate)
    assert looped.samples.shape[1] == round(2.5 * pcm.rate)
    # the loop repeats the start of the track (away from the fade at the very end)
    n = pcm.samples.shape[1]
    assert np.allclose(looped.samples[:, n:n + 1000], pcm.samples[:, :1000], atol=1e-6)


@pytest.mark.parametrize("clip_s,audio_s", [(0.5, 2.0), (1.0, 0.3)])
def test_mp4_carries_aac_of_the_clip_length(clip_s: float, audio_s: float) -> None:
    fps = 24
    frames = [Image.new("RGB", (64, 64), (i, 0, 0)) for i in range(int(clip_s * fps))]
    data = encode_mp4(frames, fps, audio=fit_to(decode_audio(wav(audio_s)), clip_s))
    codec, seconds = _audio_seconds(data)
    assert codec == "aac"
    assert abs(seconds - clip_s) < 0.05  # AAC pads to 1024-sample frames: 21 ms at 48 kHz


def test_model_waveform_is_resampled_to_stereo_48k() -> None:
    mono = np.sin(np.arange(24_000) * 0.01).astype(np.float32)
    pcm = from_waveform(mono, 24_000)
    assert pcm.samples.shape[0] == 2 and abs(pcm.duration_s - 1.0) < 0.01
