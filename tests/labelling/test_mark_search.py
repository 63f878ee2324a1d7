"""mark_search's parts: the vectorised decoder, the margin trim and the search's acceptance rule."""

from __future__ import annotations

import numpy as np
import pytest

from core.labelling import mark_search as ms
from core.labelling import payload as codeword
from core.labelling import watermark as wm
from tests.labelling.images import picture, screenshot


def test_hard_decode_agrees_with_payload_decode() -> None:
    rs = np.random.RandomState(5)
    words = [int(w) for w in rs.randint(0, 2**62, size=300, dtype=np.int64)]
    for i in range(300):  # codewords with 0-4 flipped bits: corrected up to 3, then rejected
        word = codeword.encode(int(rs.randint(0, 2**32, dtype=np.int64)))
        for bit in rs.choice(codeword.CODE_BITS, size=i % 5, replace=False):
            word ^= 1 << int(bit)
        words.append(word)
    bits = np.array([codeword.bits_of(w) for w in words], dtype=bool)
    valid, payloads, flipped = ms.hard_decode(bits)
    for word, ok, got, fix in zip(words, valid, payloads, flipped, strict=True):
        want = codeword.decode(word)
        assert bool(ok) == want.valid
        if want.valid:
            assert int(got) == want.payload and int(fix.sum()) == want.corrected
    assert 200 < valid.sum() < 300  # the 0-3 error codewords (240), hardly any random word


def _unmarked_scores(rng: np.random.Generator, readings: int, chunk: int = 10_000) -> np.ndarray:
    """Per-bit scores as an unmarked picture gives them: each the mean of 16 blocks' soft votes. Drawn in float32
    chunks: the full float64 draw (200k x 62 x 16, 1.6 GB per temporary) spent its time on memory, not maths."""
    parts = []
    for start in range(0, readings, chunk):
        phase = rng.random((min(chunk, readings - start), codeword.CODE_BITS, 16), dtype=np.float32)
        phase *= np.float32(2 * np.pi)
        parts.append(0.5 - 0.5 * np.sin(phase, out=phase).mean(axis=2, dtype=np.float64))
    return np.concatenate(parts)


def test_random_readings_rarely_pass_the_search_rule() -> None:
    """The figure bench/README.md multiplies by the readings tried: hard-valid about 3.7e-5, the rule ~1.5e-6."""
    scores = _unmarked_scores(np.random.default_rng(2), 200_000)
    assert scores.shape == (200_000, codeword.CODE_BITS)
    valid, _payloads, flipped = ms.hard_decode(scores > 0.5)
    reliability = np.abs(2 * scores - 1)
    cost = (reliability * flipped).sum(axis=1) / reliability.mean(axis=1)
    accepted = valid & ((cost <= ms.SEARCH_LIMIT) | ~flipped.any(axis=1))
    assert 1 <= valid.sum() <= 20  # ~7 expected: the test can see a code that accepts too much
    assert accepted.sum() <= 3


@pytest.mark.parametrize("factor", [0.6, 0.8, 1.25, 1.5])
def test_a_screenshots_margins_are_trimmed_to_a_fraction_of_a_pixel(factor: float) -> None:
    shot = screenshot(picture(9, (256, 256)), factor)
    box = ms.trim_margins(np.asarray(shot))
    assert box is not None
    true = (18 * factor, 56 * factor, 274 * factor, 312 * factor)  # where screenshot() pasted it
    assert np.abs(np.array(box) - np.array(true)).max() < 0.6


def test_no_margins_no_trim() -> None:
    assert ms.trim_margins(np.asarray(picture(10, (256, 256)))) is None


def test_a_shifted_crop_reads_at_its_own_size() -> None:
    payload = wm.payload_for("shifted")
    marked = wm.embed(picture(11, (320, 320)), payload)
    for dx, dy in ((3, 0), (13, 29), (40, 7)):  # every grid phase and tile shift is a different alignment
        got, readings = ms.read_geometry(marked.crop((dx, dy, dx + 250, dy + 260)), wm.WatermarkParams())
        assert wm.matches(got, payload) and readings <= 504
