"""Upload-limit fitting and option -> grammar translation, without Discord."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image

from bots.discord.delivery import fit
from bots.discord.texts import clip, command_text
from core.media.codecs import encode_mp4, encode_png
from core.service.grammar import parse_command


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def test_small_results_are_sent_unchanged() -> None:
    data = encode_png(_noise((16, 16)))
    fitted = fit(data, "image/png", "r.png", 10 * 1024 * 1024)
    assert fitted is not None and fitted.data == data and fitted.filename == "r.png" and not fitted.note


def test_large_image_is_re_encoded_under_the_limit_keeping_provenance() -> None:
    data = encode_png(_noise((256, 256)), xmp=b"<x:xmpmeta>trainedAlgorithmicMedia</x:xmpmeta>")
    fitted = fit(data, "image/png", "r.png", 8_000)
    assert fitted is not None and len(fitted.data) <= 8_000 and fitted.filename == "r.webp"
    img = Image.open(io.BytesIO(fitted.data))
    assert img.format == "WEBP" and b"trainedAlgorithmicMedia" in img.info.get("xmp", b"")


def test_large_video_is_re_encoded_or_replaced_by_a_still() -> None:
    frames = [_noise((128, 128), seed=i) for i in range(9)]
    data = encode_mp4(frames, 8, {"DigitalSourceType": "trainedAlgorithmicMedia"})
    smaller = fit(data, "video/mp4", "v.mp4", len(data) // 3)
    assert smaller is not None and len(smaller.data) <= len(data) // 3
    if smaller.filename.endswith(".mp4"):
        with av.open(io.BytesIO(smaller.data)) as c:
            assert len(list(c.decode(video=0))) == 9
            assert c.metadata.get("DigitalSourceType") == "trainedAlgorithmicMedia"
    still = fit(data, "video/mp4", "v.mp4", 1_500)
    assert still is not None and still.filename == "v-still.webp" and len(still.data) <= 1_500
    assert "first frame" in still.note
    assert fit(data, "video/mp4", "v.mp4", 10) is None  # nothing that small can be made


def test_large_video_keeps_its_soundtrack_and_label() -> None:
    # Issue 15: the re-encode kept the frames and tags but dropped the audio track.
    from tests.telegram.test_delivery import _mp4_with_sound

    data = _mp4_with_sound()
    smaller = fit(data, "video/mp4", "v.mp4", len(data) // 3)
    assert smaller is not None and smaller.filename == "v.mp4" and len(smaller.data) <= len(data) // 3
    assert "upload limit" in smaller.note
    with av.open(io.BytesIO(smaller.data)) as c:
        assert c.metadata.get("DigitalSourceType") == "http://cv.iptc.org/newscodes/digitalsourcetype/" \
            "trainedAlgorithmicMedia"
        [sound] = c.streams.audio
        assert float(sound.duration * sound.time_base) > 1.5


def test_options_become_grammar_text() -> None:
    text = command_text("video", " a fox ", ar="16:9", seed=42, steps=3, frames=9, duration=None, avoid="blur, text")
    assert text == "/video a fox --ar 16:9 --seed 42 --steps 3 --frames 9 --no blur, text"
    parsed = parse_command(text, max_prompt_chars=100, max_steps=10, max_frames=20, max_duration_s=2.0)
    assert (parsed.prompt, parsed.aspect_ratio, parsed.seed, parsed.frames, parsed.negative_prompt) == (
        "a fox", "16:9", 42, 9, "blur, text")
    assert command_text("animate", "x", duration=1.5) == "/animate x --duration 1.5"
    assert clip("a" * 2100).endswith("\u2026") and len(clip("a" * 2100)) == 2000
