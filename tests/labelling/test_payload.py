"""The watermark codeword: check value, error correction, and how rarely a random reading is accepted."""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np

from core.labelling import payload as cw


def test_up_to_three_bit_errors_are_corrected() -> None:
    rnd = random.Random(1)
    for _ in range(300):
        job = rnd.getrandbits(32)
        error = sum(1 << p for p in rnd.sample(range(cw.CODE_BITS), rnd.randint(0, cw.MAX_CORRECTED)))
        got = cw.decode(cw.encode(job) ^ error)
        assert got.valid and got.payload == job and got.corrected == bin(error).count("1")


def test_flat_readings_are_not_codewords() -> None:
    # A flat picture reads every block alike: all zeros or all ones must not decode.
    for word in (0, (1 << cw.CODE_BITS) - 1, int("01" * 31, 2), int("10" * 31, 2)):
        assert not cw.decode(word).valid
        assert not cw.decode_soft(np.array(cw.bits_of(word), dtype=float) * 0.9 + 0.05).valid


def test_random_hard_readings_are_rejected() -> None:
    rnd = random.Random(2)
    accepted = sum(cw.decode(rnd.getrandbits(cw.CODE_BITS)).valid for _ in range(100_000))
    assert accepted <= 10  # expected 3.7 (39774 * 2^32 / 2^62); the goal is under 1e-4


def test_random_soft_readings_are_rejected() -> None:
    # Scores as an unmarked picture gives them: each bit the mean of ~16 blocks' soft votes.
    rs = np.random.RandomState(3)
    scores = (0.5 - 0.5 * np.sin(2 * np.pi * rs.rand(5000, cw.CODE_BITS, 16))).mean(axis=2)
    assert sum(cw.decode_soft(s).valid for s in scores) == 0


def test_soft_decoding_fixes_more_errors_among_the_weak_bits() -> None:
    rs = np.random.RandomState(4)
    job = 0xC0FFEE42
    bits = np.array(cw.bits_of(cw.encode(job)), dtype=float)
    scores = np.where(bits > 0, 0.85, 0.15) + rs.uniform(-0.05, 0.05, cw.CODE_BITS)
    weak = rs.choice(cw.CODE_BITS, 5, replace=False)  # five wrong bits, each barely wrong
    scores[weak] = np.where(bits[weak] > 0, 0.47, 0.53)
    assert not cw.decode(cw.word_of(scores > 0.5)).valid  # beyond hard decoding ...
    got = cw.decode_soft(scores)
    assert got.valid and got.payload == job and got.corrected == 5  # ... but not beyond Chase


def test_crc_is_not_zero_for_zero() -> None:
    assert cw.crc12(0) != 0 and cw.crc12(1) != cw.crc12(2)


def _chase_one_by_one(scores: np.ndarray) -> cw.Reading:
    """decode_soft as first written: every one of Chase's 255 trials hard-decoded in turn (the reference)."""
    word = cw.word_of(scores > 0.5)
    first = cw.decode(word)
    if first.valid:
        return first
    reliability = np.abs(2 * scores - 1)
    limit = cw.SOFT_LIMIT * float(reliability.mean())
    weak = [int(i) for i in np.argsort(reliability, kind="stable")[:cw.CHASE_BITS]]
    best: tuple[float, cw.Reading] | None = None
    for k in range(1, cw.CHASE_BITS + 1):
        for flips in combinations(weak, k):
            trial = word
            for i in flips:
                trial ^= 1 << (cw.CODE_BITS - 1 - i)
            got = cw.decode(trial)
            if not got.valid:
                continue
            diff = cw.encode(got.payload) ^ word
            cost = float(sum(reliability[i] for i in range(cw.CODE_BITS) if (diff >> (cw.CODE_BITS - 1 - i)) & 1))
            if cost <= limit and (best is None or cost < best[0]):
                best = (cost, cw.Reading(got.payload, True, bin(diff).count("1")))
    return best[1] if best is not None else first


def test_screened_chase_decodes_exactly_as_trying_every_flip() -> None:
    # Codewords with 4-8 errors, some on weak bits (Chase's work, accepted or over the limit), and random readings.
    rs = np.random.RandomState(6)
    outcomes = [0, 0]
    for i in range(240):
        if i % 4 == 3:
            scores = (0.5 - 0.5 * np.sin(2 * np.pi * rs.rand(cw.CODE_BITS, 16))).mean(axis=1)
        else:
            bits = np.array(cw.bits_of(cw.encode(int(rs.randint(0, 2**32, dtype=np.int64)))), dtype=float)
            scores = np.where(bits > 0, 0.85, 0.15) + rs.uniform(-0.1, 0.1, cw.CODE_BITS)
            wrong = rs.choice(cw.CODE_BITS, 4 + i % 5, replace=False)
            miss = rs.uniform(0.0, 0.1, len(wrong))  # barely wrong
            scores[wrong] = np.where(bits[wrong] > 0, 0.5 - miss, 0.5 + miss)
        want = _chase_one_by_one(scores)
        assert cw.decode_soft(scores) == want, i
        outcomes[want.valid and want.corrected > cw.MAX_CORRECTED] += 1
    assert min(outcomes) >= 30  # both ways: Chase found the codeword (46 times), or nothing under its limit
