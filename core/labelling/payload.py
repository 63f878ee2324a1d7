"""The watermark's codeword: 32 job bits, a CRC-12 check value, BCH error correction, a whitening mask.

Layout (62 bits, most significant first): the job's 32-bit payload, CRC-12 over it, then the 18 parity
bits of the BCH(63, 45) code (shortened by one bit), which corrects any 3 flipped bits; the whole word
is XORed with a fixed mask so that flat pictures (every block reading 0, or every block 1) are far from
any codeword. A reading is accepted only if it is within 3 bits of a codeword and the check value then
matches: a random reading passes with probability 39774 * 2^32 / 2^62, about 3.7e-5 (tests measure it).
Decoding is by syndrome table (every pattern of up to 3 errors), built once on first use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np

JOB_BITS = 32
CHECK_BITS = 12
PARITY_BITS = 18
DATA_BITS = JOB_BITS + CHECK_BITS
CODE_BITS = DATA_BITS + PARITY_BITS  # 62
MAX_CORRECTED = 3

_CRC12 = 0x80F  # CRC-12 (x^12 + x^11 + x^3 + x^2 + x + 1), without the implicit top bit
_BCH = 0o1701317  # generator of the binary BCH(63, 45, t=3) code (Lin & Costello, table C), degree 18
_MASK = int.from_bytes(hashlib.blake2b(b"reelsmith watermark mask", digest_size=8).digest(), "big") >> (
    64 - CODE_BITS)


@dataclass(frozen=True)
class Reading:
    payload: int  # the job's 32 bits (corrected when valid, as read when not)
    valid: bool  # within MAX_CORRECTED bits of a codeword, and the check value matches
    corrected: int  # bits flipped to reach the codeword (0 when not valid)


def crc12(value: int, bits: int = JOB_BITS) -> int:
    """CRC-12 of the `bits` low bits of `value`, most significant first, initial value 0xFFF (so 0 is not 0)."""
    reg = 0xFFF
    for i in range(bits - 1, -1, -1):
        top = ((reg >> (CHECK_BITS - 1)) & 1) ^ ((value >> i) & 1)
        reg = ((reg << 1) & 0xFFF) ^ (_CRC12 if top else 0)
    return reg


def _mod(value: int, poly: int = _BCH, degree: int = PARITY_BITS) -> int:
    """`value` as a GF(2) polynomial modulo `poly`."""
    for i in range(value.bit_length() - 1, degree - 1, -1):
        if (value >> i) & 1:
            value ^= poly << (i - degree)
    return value


def encode(payload: int) -> int:
    """The 62-bit codeword for a 32-bit payload (systematic: payload and check value, then parity)."""
    if not 0 <= payload < 1 << JOB_BITS:
        raise ValueError(f"payload must be a {JOB_BITS}-bit unsigned int, got {payload}")
    data = (payload << CHECK_BITS) | crc12(payload)
    shifted = data << PARITY_BITS
    return (shifted | _mod(shifted)) ^ _MASK


def bits_of(word: int) -> list[int]:
    return [(word >> (CODE_BITS - 1 - i)) & 1 for i in range(CODE_BITS)]


def word_of(bits: np.ndarray | list[int]) -> int:
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return value


@cache
def _syndrome_table() -> dict[int, int]:
    """Syndrome -> the lightest error pattern with it, for every pattern of up to MAX_CORRECTED bits.

    Syndromes are linear, so each pattern's is the XOR of its single bits'. No two patterns may share
    one (that would mean a minimum distance under 7); `_check_code` asserts it.
    """
    single = [_mod(1 << i) for i in range(CODE_BITS)]
    table: dict[int, int] = {0: 0}
    for weight in range(1, MAX_CORRECTED + 1):
        for positions in combinations(range(CODE_BITS), weight):
            syndrome = 0
            pattern = 0
            for p in positions:
                syndrome ^= single[p]
                pattern |= 1 << p
            if syndrome in table:
                raise AssertionError(f"the code does not correct {MAX_CORRECTED} errors")
            table[syndrome] = pattern
    return table


def decode(word: int) -> Reading:
    """The payload a 62-bit reading carries, with up to 3 bit errors corrected, and whether it is valid."""
    raw = word ^ _MASK
    error = _syndrome_table().get(_mod(raw))
    if error is not None:
        fixed = raw ^ error
        data = fixed >> PARITY_BITS
        payload, check = data >> CHECK_BITS, data & ((1 << CHECK_BITS) - 1)
        if crc12(payload) == check:
            return Reading(payload, True, bin(error).count("1"))
    return Reading(raw >> (PARITY_BITS + CHECK_BITS), False, 0)


CHASE_BITS = 8  # least reliable bits tried flipped before hard decoding (Chase-II: 256 trials)
SOFT_LIMIT = 0.7  # a soft decode may flip bits worth at most this many average bits of reliability


@cache
def _dense_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Dense tables for decoding many words at once: the error pattern per syndrome (-1: none within 3 bits),
    the syndrome of each single bit (bit i: value 1 << i), the CRC-12 of each byte of a payload (bytes low
    first, without the initial value's part), and the CRC of payload 0."""
    errors = np.full(1 << PARITY_BITS, -1, dtype=np.int64)
    for syndrome, pattern in _syndrome_table().items():
        errors[syndrome] = pattern
    single = np.array([_mod(1 << i) for i in range(CODE_BITS)], dtype=np.int64)
    zero = crc12(0)
    crc_bytes = np.array([[crc12(b << (8 * k)) ^ zero for b in range(256)] for k in range(JOB_BITS // 8)],
                         dtype=np.int64)
    return errors, single, crc_bytes, zero


def decode_words(words: np.ndarray, syndromes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """`decode` for many words at once: int64 words as read (masked) -> (valid, payload, error pattern; -1 where
    no pattern within 3 bits fits). `syndromes` of the unmasked words may be given when the caller has them
    cheaper (they are linear: a flip's syndrome XORs onto the word's)."""
    errors, single, crc_bytes, zero = _dense_tables()
    raw = words ^ np.int64(_MASK)
    if syndromes is None:
        syndromes = np.zeros(len(raw), dtype=np.int64)
        for i in range(CODE_BITS):
            syndromes ^= np.where((raw >> i) & 1, single[i], 0)
    error = errors[syndromes]
    data = (raw ^ np.maximum(error, 0)) >> PARITY_BITS
    payload, check = data >> CHECK_BITS, data & ((1 << CHECK_BITS) - 1)
    crc = np.full(len(raw), zero, dtype=np.int64)
    for k in range(JOB_BITS // 8):
        crc ^= crc_bytes[k][(payload >> (8 * k)) & 0xFF]
    return (error >= 0) & (crc == check), payload, error


@cache
def _chase_tables() -> tuple[np.ndarray, np.ndarray]:
    """Each reading position's bit and syndrome, and the trials' flip subsets (in `combinations` order,
    k = 1 .. 8)."""
    position = np.array([[1 << (CODE_BITS - 1 - i), _mod(1 << (CODE_BITS - 1 - i))] for i in range(CODE_BITS)],
                        dtype=np.int64)
    subsets = np.array([[j in flips for j in range(CHASE_BITS)] for k in range(1, CHASE_BITS + 1)
                        for flips in combinations(range(CHASE_BITS), k)], dtype=bool)
    return position, subsets


def _chase_candidates(word: int, weak: list[int]) -> list[int]:
    """The Chase trials (in trial order) that `decode` accepts: syndromes are linear, so all 255 are screened
    at once by `decode_words` and only the few that pass are decoded one by one."""
    position, subsets = _chase_tables()
    flip_bits, flip_syndromes = (np.bitwise_xor.reduce(np.where(subsets, position[weak, c], 0), axis=1)
                                 for c in (0, 1))
    trials = np.int64(word) ^ flip_bits
    valid, _payload, _error = decode_words(trials, np.int64(_mod(word ^ _MASK)) ^ flip_syndromes)
    return [int(t) for t in trials[valid]]


def decode_soft(scores: np.ndarray) -> Reading:
    """The payload from per-bit scores (0..1, > 0.5 reads 1): hard decoding, else Chase-II decoding.

    Chase flips subsets of the CHASE_BITS least reliable bits and hard-decodes each; the codeword that
    disagrees with the reading on the least total reliability wins, and only if that total stays under
    SOFT_LIMIT times the mean reliability of a bit: a marked picture's wrong bits are the ones its blocks
    barely agreed on, a random reading's nearest codewords are not (tests measure the false accepts).
    """
    hard = scores > 0.5
    word = word_of(hard)
    first = decode(word)
    if first.valid:
        return first
    reliability = np.abs(2 * scores - 1)
    limit = SOFT_LIMIT * float(reliability.mean())
    weak = [int(i) for i in np.argsort(reliability, kind="stable")[:CHASE_BITS]]
    best: tuple[float, Reading] | None = None
    for trial in _chase_candidates(word, weak):
        got = decode(trial)
        if not got.valid:  # the screen is exact, so this does not happen; decode stays the one judge
            continue
        diff = encode(got.payload) ^ word
        cost = float(sum(reliability[i] for i in range(CODE_BITS) if (diff >> (CODE_BITS - 1 - i)) & 1))
        if cost <= limit and (best is None or cost < best[0]):
            best = (cost, Reading(got.payload, True, bin(diff).count("1")))
    return best[1] if best is not None else first
