"""Invisible watermark carrying the job id's 32 bits in an error-corrected, checked codeword (DWT-DCT-SVD).

The transform is invisible-watermark's `dwtDctSvd` (Haar DWT of one YUV channel, 4x4 DCT blocks of
the low band, the block's largest singular value quantised to carry a bit, bits repeated across all
blocks), vectorised with NumPy so a 1024 px frame takes milliseconds instead of a Python loop per
block. The bits are laid out on a 7x9 tile of blocks repeated over the picture (`layout`), so any
window of 7x9 blocks holds every bit and a crop only shifts the tile (`mark_search` finds the shift);
given that layout as its bit sequence, invisible-watermark reads our marks. The bits are
`payload.encode`'s 62-bit codeword (32 job bits, a CRC-12 check value, BCH parity correcting 3 errors,
whitened). Decoding returns whether the reading is a valid codeword (random
readings almost never are) and a confidence (how unanimous the repeated blocks are), and tries the
generation sizes an image may have been scaled from: Discord and Telegram recompress and resize, and
the mark is read at the size it was written.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.labelling import payload as codeword
from core.labelling.payload import CODE_BITS

PAYLOAD_BITS = codeword.JOB_BITS  # the job's bits; the image carries CODE_BITS (with check and parity)
MIN_PIXELS = 256 * 256  # below this the repeated blocks are too few to survive recompression


@dataclass(frozen=True)
class WatermarkParams:
    """Where and how strongly the bits are embedded; defaults are tuned in bench/labelling.py."""

    channel: int = 0  # 0 = Y (luma survives JPEG's chroma subsampling), 1 = U, 2 = V
    scale: float = 48.0  # quantisation step of the singular value: higher = sturdier, more visible
    block: int = 4  # DCT block size inside the DWT low band (4 = 8x8 pixels)


@dataclass(frozen=True)
class Decoded:
    payload: int  # the job's 32 bits as an unsigned int (meaningless unless `valid`)
    confidence: float  # 0 (coin flips, unmarked) .. 1 (every block agrees)
    size: tuple[int, int]  # the size the image was read at
    valid: bool = False  # the reading is a codeword (after correction) whose check value matches
    corrected: int = 0  # bit errors corrected


def payload_for(job_id: str) -> int:
    """The 32-bit mark for a job: a hash, so every job id (whatever its form) maps evenly."""
    return int.from_bytes(hashlib.blake2b(job_id.encode("utf-8"), digest_size=4).digest(), "big")


def payload_hex(payload: int) -> str:
    return f"{payload:08x}"


def _bits(payload: int) -> np.ndarray:
    """The CODE_BITS bits the image carries for a 32-bit payload (repeated across its blocks)."""
    return np.array(codeword.bits_of(codeword.encode(payload)), dtype=np.float64)


# The codeword's tile: TILE_ROWS x TILE_COLS blocks (63 cells: the 62 bits, then bit 0 again). Odd periods,
# so each bit sits at every position of the 16 px grid H.264 and JPEG's chroma work on, not always the same.
TILE_ROWS, TILE_COLS = 7, 9


def layout(rows: int, cols: int) -> np.ndarray:
    """The codeword bit each block of a rows x cols grid carries (row-major): the tile, repeated.

    Periodic in both directions, so a crop (which shifts the grid) or a turn (which permutes a tile's cells)
    leaves every bit in every window of TILE_ROWS x TILE_COLS blocks, at a position `mark_search` can try.
    """
    r = np.arange(rows)[:, None] % TILE_ROWS
    c = np.arange(cols)[None, :] % TILE_COLS
    return np.asarray(((r * TILE_COLS + c) % CODE_BITS).ravel())


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix (what cv2.dct computes on a block)."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0, :] = np.sqrt(1.0 / n)
    return m


def _yuv(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 -> YUV float (BT.601, as OpenCV's COLOR_BGR2YUV)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([y, (b - y) * 0.492 + 128.0, (r - y) * 0.877 + 128.0], axis=-1)


def _rgb(yuv: np.ndarray) -> np.ndarray:
    y, u, v = yuv[..., 0], yuv[..., 1] - 128.0, yuv[..., 2] - 128.0
    r = y + v / 0.877
    b = y + u / 0.492
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.clip(np.rint(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)


def _haar(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    a, b, c, d = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
    return (a + b + c + d) / 2, (a - b + c - d) / 2, (a + b - c - d) / 2, (a - b - c + d) / 2


def _ihaar(ll: np.ndarray, h1: np.ndarray, h2: np.ndarray, hh: np.ndarray) -> np.ndarray:
    out = np.empty((ll.shape[0] * 2, ll.shape[1] * 2))
    out[0::2, 0::2] = (ll + h1 + h2 + hh) / 2
    out[0::2, 1::2] = (ll - h1 + h2 - hh) / 2
    out[1::2, 0::2] = (ll + h1 - h2 - hh) / 2
    out[1::2, 1::2] = (ll - h1 - h2 + hh) / 2
    return out


def _blocks(band: np.ndarray, n: int) -> tuple[np.ndarray, int, int]:
    rows, cols = band.shape[0] // n, band.shape[1] // n
    view = band[: rows * n, : cols * n].reshape(rows, n, cols, n).transpose(0, 2, 1, 3).reshape(-1, n, n)
    return view, rows, cols


def embed(img: Image.Image, payload: int, params: WatermarkParams = WatermarkParams()) -> Image.Image:
    """The image with the payload embedded; images under 256x256 are returned unchanged."""
    return embed_frames([img], payload, params)[0]


def embed_frames(frames: list[Image.Image], payload: int,
                 params: WatermarkParams = WatermarkParams()) -> list[Image.Image]:
    """Every frame with the payload embedded; frames of one size are marked together, a few at a time.

    A clip's batches run on a few threads (NumPy lets go of the GIL in its loops): small batches stay in
    cache, and the worker's other cores are idle while one job's frames are labelled.
    """
    out: list[Image.Image] = list(frames)
    batches: list[list[int]] = []
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, frame in enumerate(frames):
        if frame.width * frame.height >= MIN_PIXELS:
            by_size.setdefault(frame.size, []).append(i)
    for (w, h), indices in by_size.items():
        chunk = max(1, FRAME_BATCH_PIXELS // (w * h))
        batches += [indices[start:start + chunk] for start in range(0, len(indices), chunk)]

    def mark(part: list[int]) -> None:
        rgb = np.stack([np.asarray(frames[i] if frames[i].mode == "RGB" else frames[i].convert("RGB"))
                        for i in part])
        marked = embed_array(rgb, payload, params) if params.channel == 0 else np.stack(
            [_embed_any_channel(one, payload, params) for one in rgb])
        for i, arr in zip(part, marked, strict=True):
            out[i] = Image.fromarray(arr)

    if len(batches) <= 1:
        for part in batches:
            mark(part)
    else:
        with ThreadPoolExecutor(max_workers=min(len(batches), FRAME_THREADS)) as pool:
            list(pool.map(mark, batches))
    return out


FRAME_BATCH_PIXELS = 1_500_000  # pixels marked in one NumPy batch (a few frames: the temporaries stay in cache)
FRAME_THREADS = min(4, os.cpu_count() or 1)


def _luma_ll(rgb: np.ndarray) -> np.ndarray:
    """The Haar LL band of Y for uint8 RGB (..., H, W, 3) with even sides: half the sum of each 2x2 of Y."""
    quad = (rgb[..., 0::2, 0::2, :].astype(np.uint16) + rgb[..., 0::2, 1::2, :]
            + rgb[..., 1::2, 0::2, :] + rgb[..., 1::2, 1::2, :])
    return np.asarray(quad @ _LUMA) * 0.5


_LUMA = np.array([0.299, 0.587, 0.114])
_POWER_STEPS = 4  # enough for image blocks (one value dominates); the rest go to LAPACK
_POWER_TOL = 1e-9  # relative residual of the top singular vector; blocks above it get LAPACK's SVD


def _top_singular(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest singular value and its vectors (s0, u0, v0) of each block in (K, n, n).

    The DCT is orthonormal, so a block and its DCT share singular values and the change to the largest
    maps straight back: the blocks' own SVD is the library's, without the two transforms. Power iteration
    on B^T B converges in a few steps on image blocks (one value dominates: the block's mean); the blocks
    it does not settle (flat black, textures with two near-equal values) are handed to LAPACK.
    """
    gram = np.matmul(blocks.transpose(0, 2, 1), blocks)
    v = np.full(blocks.shape[:2], 1.0 / np.sqrt(blocks.shape[1]))
    for _ in range(_POWER_STEPS):
        w = np.einsum("kij,kj->ki", gram, v)
        v = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-300)
    gv = np.einsum("kij,kj->ki", gram, v)
    lam = np.einsum("ki,ki->k", v, gv)
    residual = np.linalg.norm(gv - lam[:, None] * v, axis=1)
    bad = ~(residual <= _POWER_TOL * np.maximum(lam, 1e-300)) | (lam <= 1e-6)
    s0 = np.sqrt(np.maximum(lam, 0.0))
    u = np.einsum("kij,kj->ki", blocks, v) / np.maximum(s0, 1e-300)[:, None]
    if bad.any():
        # In the DCT domain, as the library does: a flat block's singular vectors are whatever LAPACK
        # picks, and those differ between a block and its transform.
        d = _dct_matrix(blocks.shape[1])
        uu, ss, vt = np.linalg.svd(d @ blocks[bad] @ d.T)
        s0[bad], u[bad], v[bad] = ss[:, 0], uu[:, :, 0] @ d, vt[:, 0, :] @ d
    return s0, u, v


def embed_array(rgb: np.ndarray, payload: int, params: WatermarkParams = WatermarkParams()) -> np.ndarray:
    """The Y-channel mark on uint8 RGB frames (F, H, W, 3) of one size; the result is a new array.

    Same transform as invisible-watermark's dwtDctSvd on Y, reduced to what changes: only the LL band
    moves, so the other Haar bands are never formed; with U and V fixed a change of Y moves R, G and B
    by exactly that much, and an LL change of d moves each of its 2x2 pixels by d / 2.
    """
    if params.channel != 0:
        raise ValueError("embed_array marks the Y channel; use embed for U or V")
    f, h, w = rgb.shape[:3]
    n = params.block
    rows, cols = h // 4 * 2 // n, w // 4 * 2 // n
    ll = _luma_ll(rgb[:, : rows * n * 2, : cols * n * 2])
    blocks = ll.reshape(f, rows, n, cols, n).transpose(0, 1, 3, 2, 4).reshape(-1, n, n)
    s0, u, v = _top_singular(blocks)
    bits = np.tile(_bits(payload)[layout(rows, cols)], f)
    target = (s0 // params.scale + 0.25 + 0.5 * bits) * params.scale
    delta = (target - s0)[:, None, None] * u[:, :, None] * v[:, None, :]
    half = np.rint(delta.reshape(f, rows, cols, n, n).transpose(0, 1, 3, 2, 4) * 0.5).astype(np.int16)
    # Up to pixels on the one plane first: contiguous adds over three channels beat strided ones.
    change = np.repeat(np.repeat(half.reshape(f, rows * n, cols * n), 2, axis=1), 2, axis=2)
    out = rgb.copy()
    area = out[:, : rows * n * 2, : cols * n * 2]
    marked = area.astype(np.int16)
    marked += change[..., None]
    area[...] = np.clip(marked, 0, 255, out=marked)
    return out


def _embed_any_channel(rgb: np.ndarray, payload: int, params: WatermarkParams) -> np.ndarray:
    """The full transform on any YUV channel (U or V go through the colour round trip)."""
    h, w = rgb.shape[:2]
    h4, w4 = h // 4 * 4, w // 4 * 4
    yuv = _yuv(rgb[:h4, :w4])
    plane = yuv[..., params.channel].copy()
    ll, h1, h2, hh = _haar(plane)
    n = params.block
    blocks, rows, cols = _blocks(ll, n)
    d = _dct_matrix(n)
    u, s, vt = np.linalg.svd(d @ blocks @ d.T)
    bits = _bits(payload)[layout(rows, cols)]
    s[:, 0] = (s[:, 0] // params.scale + 0.25 + 0.5 * bits) * params.scale
    marked = d.T @ (u @ (s[:, :, None] * vt)) @ d
    ll2 = ll.copy()
    ll2[: rows * n, : cols * n] = marked.reshape(rows, cols, n, n).transpose(0, 2, 1, 3).reshape(rows * n, cols * n)
    yuv[..., params.channel] = _ihaar(ll2, h1, h2, hh)
    out = rgb.copy()
    out[:h4, :w4] = _rgb(yuv)
    return out


def _scores(img: Image.Image, params: WatermarkParams) -> np.ndarray | None:
    """Per-bit fraction of blocks voting 1, or None if the image is too small to carry a mark."""
    rgb = np.asarray(img.convert("RGB"))
    h, w = rgb.shape[:2]
    if w * h < MIN_PIXELS:
        return None
    plane = _yuv(rgb)[: h // 4 * 4, : w // 4 * 4, params.channel]
    ll = _haar(plane)[0]
    blocks, rows, cols = _blocks(ll, params.block)
    d = _dct_matrix(params.block)
    s = np.linalg.svd(d @ blocks @ d.T, compute_uv=False)[:, 0]
    # Soft votes: a block read near the quantiser's edge (JPEG, H.264 moved it) counts for little.
    votes = 0.5 - 0.5 * np.sin(2 * np.pi * np.mod(s, params.scale) / params.scale)
    index = layout(rows, cols)
    ones = np.bincount(index, weights=votes, minlength=CODE_BITS)
    counts = np.bincount(index, minlength=CODE_BITS)
    return np.asarray(ones / np.maximum(counts, 1))


def _from_scores(scores: np.ndarray, size: tuple[int, int]) -> Decoded:
    reading = codeword.decode_soft(scores)
    return Decoded(reading.payload, float(np.mean(np.abs(2 * scores - 1))), size, reading.valid,
                   reading.corrected)


def _better(got: Decoded, best: Decoded | None) -> bool:
    """A valid reading beats any invalid one; then the more confident."""
    return best is None or (got.valid, got.confidence) > (best.valid, best.confidence)


def decode_at(img: Image.Image, params: WatermarkParams = WatermarkParams()) -> Decoded | None:
    """Read the mark at the image's own size."""
    scores = _scores(img, params)
    return None if scores is None else _from_scores(scores, img.size)


def decode(img: Image.Image, sizes: Iterable[tuple[int, int]] = (),
           params: WatermarkParams = WatermarkParams(), max_side: int = 4096) -> Decoded | None:
    """The best reading (valid first, then most confident) over the image's own size and `sizes` it may
    have been scaled from.

    Sizes with a side over `max_side` are skipped: nothing that large is generated, and reading
    it would cost seconds and gigabytes.
    """
    best: Decoded | None = None
    seen: set[tuple[int, int]] = set()
    for size in (img.size, *sizes):
        if size in seen or min(size) <= 0 or max(size) > max_side:
            continue
        seen.add(size)
        candidate = img if size == img.size else img.convert("RGB").resize(size, Image.Resampling.BICUBIC)
        got = decode_at(candidate, params)
        if got is not None and _better(got, best):
            best = got
    return best


def decode_frames(frames: Iterable[Image.Image], sizes: Iterable[tuple[int, int]] = (),
                  params: WatermarkParams = WatermarkParams(), max_side: int = 4096) -> Decoded | None:
    """Majority vote over video frames: per-bit scores are averaged across frames before deciding."""
    sizes = list(sizes)
    total: np.ndarray | None = None
    count = 0
    size = (0, 0)
    for frame in frames:
        best = decode(frame, sizes, params, max_side)
        if best is None:
            continue
        scores = _scores(frame if best.size == frame.size else frame.resize(best.size, Image.Resampling.BICUBIC),
                         params)
        assert scores is not None
        total = scores if total is None else total + scores
        count += 1
        size = best.size
    return None if total is None else _from_scores(total / count, size)


def matches(decoded: Decoded | None, payload: int) -> bool:
    """True when the reading is valid (check value passed, errors corrected) and carries `payload`."""
    return decoded is not None and decoded.valid and decoded.payload == payload
