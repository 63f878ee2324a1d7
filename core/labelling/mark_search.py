"""Finding an image's watermark after crops, borders, rescales, turns and mirrors (what /verify runs).

The mark is a 7x9 tile of 8 px blocks (`watermark.layout`), so whatever was done to a picture, the blocks
that are left still carry every bit; what is lost is *where* the grid and the tile start. The search:

1. Geometries: the picture as it is, scaled to the sizes it may have been generated at, and (for a
   screenshot) its content inside near-uniform margins, as it is and scaled to those sizes.
2. Grid phase: the one of the 64 pixel offsets whose blocks sit closest to the quantiser's two levels
   (a layout-free statistic, computed once per phase on a central window); one phase goes on.
3. Layout: the blocks' votes are summed per tile cell once, then each of the 8 orientations x 63 tile
   shifts (504 alignments) is a permutation of those sums: a 62-bit reading, hard-decoded in one
   vectorised pass; the unshifted, unturned one also gets the Chase decoder.

Each alignment is one more chance for a random reading to pass the check value, so `Search.readings`
counts them: a random reading passes with probability about 3.7e-5 (payload.py), and a valid reading
still has to name a job on record (about jobs / 2^32 more); bench/README.md works the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from core.labelling import payload as codeword
from core.labelling.payload import CODE_BITS
from core.labelling.watermark import TILE_COLS, TILE_ROWS, Decoded, WatermarkParams, layout

MIN_READ_PIXELS = 192 * 192  # a 5%-per-side crop of a 256 px result (230 px) must still be read
PHASE_WINDOW = 256  # pixels per side of the central window the grid phase is chosen on
MARGIN_TOLERANCE = 6.0  # a margin row's pixels stay this close (in 0..255) to its median: a flat border
MIN_MARGIN = 3  # fewer trimmed pixels than this on every side is no border
# A searched alignment's corrections may flip bits worth at most this many average bits of reliability
# (the unshifted one keeps payload.decode_soft's rule): random readings rarely get that lucky.
SEARCH_LIMIT = 0.7
SURE = 0.3  # a valid reading this unanimous stops the search (random valid readings: about 0.05-0.12 at 256 px)


@dataclass(frozen=True)
class Search:
    """The best reading found and how many distinct readings were tried to find it (the false-accept factor)."""

    decoded: Decoded | None
    readings: int
    geometry: str = ""  # which geometry produced `decoded` ("as is", "scaled to 512x512", "trimmed ...")


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114]))


def _top_values(blocks: np.ndarray, steps: int = 6) -> np.ndarray:
    """Largest singular value of each (n, n) block, by power iteration on B^T B (the phase statistic only
    needs it roughly: the decode itself uses the exact values)."""
    gram = np.matmul(blocks.transpose(0, 2, 1), blocks)
    v = np.full(blocks.shape[:2], 1.0 / np.sqrt(blocks.shape[1]))
    for _ in range(steps):
        w = np.einsum("kij,kj->ki", gram, v)
        v = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-300)
    return np.sqrt(np.maximum(np.einsum("ki,kij,kj->k", v, gram, v), 0.0))


def _ll_blocks(y: np.ndarray, py: int, px: int, n: int) -> tuple[np.ndarray, int, int]:
    """The (rows*cols, n, n) blocks of the Haar LL band of `y` read from pixel offset (py, px)."""
    sub = y[py:, px:]
    rows, cols = sub.shape[0] // (2 * n), sub.shape[1] // (2 * n)
    sub = sub[: rows * 2 * n, : cols * 2 * n]
    ll = (sub[0::2, 0::2] + sub[0::2, 1::2] + sub[1::2, 0::2] + sub[1::2, 1::2]) / 2
    return ll.reshape(rows, n, cols, n).transpose(0, 2, 1, 3).reshape(-1, n, n), rows, cols


def _votes(s: np.ndarray, scale: float) -> np.ndarray:
    """Soft vote for 1 per block (as `watermark._scores`): near 0 or 1 on a quantiser level, 0.5 between."""
    return np.asarray(0.5 - 0.5 * np.sin(2 * np.pi * np.mod(s, scale) / scale))


def best_phase(y: np.ndarray, params: WatermarkParams) -> tuple[int, int]:
    """The pixel offset of the block grid: the one whose blocks' values sit nearest the two quantiser levels."""
    period = 2 * params.block
    h, w = y.shape
    side = min(PHASE_WINDOW, h - period, w - period)
    top, left = (h - period - side) // 2 // period * period, (w - period - side) // 2 // period * period
    window = y[top: top + side + period, left: left + side + period]
    best, where = -1.0, (0, 0)
    for py in range(period):
        for px in range(period):
            blocks, _rows, _cols = _ll_blocks(window[: side + py, : side + px], py, px, params.block)
            stat = float(np.mean(np.abs(2 * _votes(_top_values(blocks), params.scale) - 1)))
            if stat > best:
                best, where = stat, (py, px)
    return where


def _block_votes(y: np.ndarray, phase: tuple[int, int], params: WatermarkParams) -> tuple[np.ndarray, int, int]:
    """Every block's soft vote for 1, read at `phase`, with the grid's rows and columns."""
    blocks, rows, cols = _ll_blocks(y, phase[0], phase[1], params.block)
    s = np.linalg.svd(blocks, compute_uv=False)[:, 0]  # exact: the bits sit in these values
    return _votes(s, params.scale), rows, cols


def _cell_sums(votes: np.ndarray, rows: int, cols: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Votes for 1 and block counts per cell of a `shape` tile (in the observed frame)."""
    cell = ((np.arange(rows)[:, None] % shape[0]) * shape[1] + np.arange(cols)[None, :] % shape[1]).ravel()
    size = shape[0] * shape[1]
    return (np.bincount(cell, weights=votes, minlength=size), np.bincount(cell, minlength=size).astype(np.float64))


@cache
def _alignments() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """For the observed tile shapes (7, 9) and (9, 7): per alignment, the codeword bit of each observed cell.

    Returns ((bits_79, ids_79), (bits_97, ids_97)): bits (K, 63) and the alignment's (orientation, dr, dc)
    ids (K, 3). Orientations 0-3 keep the axes (signs of rows and columns), 4-7 swap them (a turn by 90
    degrees or a transpose: the observed tile is then 9 x 7).
    """
    tile_bits = layout(TILE_ROWS, TILE_COLS).reshape(TILE_ROWS, TILE_COLS)
    out = []
    for swap in (False, True):
        shape = (TILE_COLS, TILE_ROWS) if swap else (TILE_ROWS, TILE_COLS)
        a, b = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        rows, ids = [], []
        for o, (sr, sc) in enumerate(((1, 1), (-1, -1), (1, -1), (-1, 1))):
            for dr in range(TILE_ROWS):
                for dc in range(TILE_COLS):
                    first, second = (b, a) if swap else (a, b)
                    i = (sr * first + dr) % TILE_ROWS
                    j = (sc * second + dc) % TILE_COLS
                    rows.append(tile_bits[i, j].ravel())
                    ids.append((o + 4 * swap, dr, dc))
        out.append((np.array(rows), np.array(ids)))
    return (out[0][0], out[0][1]), (out[1][0], out[1][1])


def hard_decode(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`payload.decode` for many readings at once: bits (K, 62) -> (valid, payload, flipped) arrays, where
    flipped (K, 62) marks the bits the correction changed."""
    shifts = np.arange(CODE_BITS - 1, -1, -1, dtype=np.int64)
    valid, payload, error = codeword.decode_words((bits.astype(np.int64) << shifts).sum(axis=1))
    flipped = ((np.maximum(error, 0)[:, None] >> shifts) & 1).astype(bool)
    return valid, payload, flipped


def read_geometry(img: Image.Image, params: WatermarkParams) -> tuple[Decoded | None, int]:
    """The best reading of one geometry over all 504 alignments, and the number of distinct readings tried."""
    rgb = np.asarray(img.convert("RGB"))
    if rgb.shape[0] * rgb.shape[1] < MIN_READ_PIXELS:
        return None, 0
    y = _luma(rgb)
    votes, rows, cols = _block_votes(y, best_phase(y, params), params)
    best: Decoded | None = None
    best_cost = 0.0
    readings = 0
    for shape, (cell_bits, _ids) in zip(((TILE_ROWS, TILE_COLS), (TILE_COLS, TILE_ROWS)), _alignments(),
                                        strict=True):
        ones, counts = _cell_sums(votes, rows, cols, shape)
        k = len(cell_bits)
        index = (np.arange(k)[:, None] * CODE_BITS + cell_bits).ravel()
        bit_ones = np.bincount(index, weights=np.tile(ones, k), minlength=k * CODE_BITS).reshape(k, CODE_BITS)
        bit_counts = np.bincount(index, weights=np.tile(counts, k), minlength=k * CODE_BITS).reshape(k, CODE_BITS)
        scores = bit_ones / np.maximum(bit_counts, 1)
        hard = scores > 0.5
        readings += len(np.unique(np.packbits(hard, axis=1), axis=0))
        valid, payloads, flipped = hard_decode(hard)
        reliability = np.abs(2 * scores - 1)
        confidence = reliability.mean(axis=1)
        # What the corrections cost, in average bits of reliability: a marked picture's wrong bits are ones its
        # blocks barely agreed on; the bits a random reading needs flipped are as strong as any (payload.py).
        cost = (reliability * flipped).sum(axis=1) / np.maximum(confidence, 1e-12)
        accept = valid & ((cost <= SEARCH_LIMIT) | ~flipped.any(axis=1))
        corrected = flipped.sum(axis=1)
        if shape == (TILE_ROWS, TILE_COLS):
            # The unturned, unshifted alignment is read as before the search: hard, else Chase (decode_soft).
            soft = codeword.decode_soft(scores[0])
            accept[0], payloads[0], corrected[0], cost[0] = soft.valid, soft.payload, soft.corrected, 0.0
        for i in np.flatnonzero(accept):
            if best is None or not best.valid or cost[i] < best_cost:
                best = Decoded(int(payloads[i]), float(confidence[i]), img.size, True, int(corrected[i]))
                best_cost = float(cost[i])
        if best is None or not best.valid:
            best = Decoded(int(payloads[0]), float(confidence[0]), img.size, False, 0)
    return best, readings


def _flat(line: np.ndarray) -> bool:
    return bool(np.mean(np.abs(line - np.median(line)) <= MARGIN_TOLERANCE) >= 0.99)


def _first_content(y: np.ndarray) -> int:
    """How many leading rows of `y` are a flat margin (at most a third of them)."""
    n = 0
    while n < y.shape[0] // 3 and _flat(y[n]):
        n += 1
    return n


def _edge(y: np.ndarray, rough: int) -> float:
    """Where the content starts, to a fraction of a pixel, along the rows of `y` (margin first).

    A rescale blends the margin and the picture: each row near the edge is covered by content in
    proportion to its difference from the margin colour (relative to the rows just inside), so the
    coverages summed back from inside give the edge; ringing (Lanczos, bicubic) makes the rough
    flatness test stop early, the sum does not mind.
    """
    if rough == 0:
        return 0.0
    margin = float(np.median(y[0]))
    inside = min(y.shape[0] - 6, rough + 4)
    profile = np.mean(np.abs(y - margin), axis=1)
    full = float(np.mean(profile[inside: inside + 6]))
    if full <= MARGIN_TOLERANCE:
        return float(rough)
    start = max(0, rough - 4)
    coverage = np.minimum(profile[start:inside] / full, 1.0)
    return float(inside - coverage.sum())


def trim_margins(rgb: np.ndarray) -> tuple[float, float, float, float] | None:
    """The box (left, top, right, bottom, in fractional pixels) inside near-uniform margins (a screenshot's
    border), or None when there are none."""
    y = _luma(rgb)
    h, w = y.shape
    top, bottom = _first_content(y), _first_content(y[::-1])
    rows = y[top + 2: h - bottom - 2] if h - bottom - top > 8 else y
    left, right = _first_content(rows.T), _first_content(rows.T[::-1])
    if max(top, bottom, left, right) < MIN_MARGIN:
        return None
    cols = y[:, left + 2: w - right - 2] if w - right - left > 8 else y
    return (_edge(rows.T, left), _edge(cols, top), w - _edge(rows.T[::-1], right), h - _edge(cols[::-1], bottom))


def search(img: Image.Image, sizes_for: Callable[[tuple[int, int]], list[tuple[int, int]]],
           params: WatermarkParams = WatermarkParams(), max_side: int = 4096) -> Search:
    """The most confident valid reading over the geometries (else the most confident one), with the readings
    tried. A valid reading of SURE confidence ends the search early: a random one is far less unanimous.

    `sizes_for(size)` gives the generation sizes a picture of that size may have been scaled from.
    """
    rgb = img.convert("RGB")
    # (name, the region read (None: all of it), the size it is read at)
    Box = tuple[float, float, float, float] | None
    geometries: list[tuple[str, Box, tuple[int, int]]] = [("as is", None, rgb.size)]
    geometries += [(f"scaled to {w}x{h}", None, (w, h)) for w, h in sizes_for(rgb.size)]
    box = trim_margins(np.asarray(rgb))
    if box is not None:
        inner = (round(box[2] - box[0]), round(box[3] - box[1]))
        geometries.append((f"trimmed to {inner[0]}x{inner[1]}", box, inner))
        geometries += [(f"trimmed, scaled to {w}x{h}", box, (w, h)) for w, h in sizes_for(inner)]
    best: Decoded | None = None
    where = ""
    readings = 0
    seen: set[tuple[object, ...]] = set()
    for name, region, target in geometries:
        key = (region, *target)
        if key in seen or min(target) <= 0 or max(target) > max_side:
            continue
        seen.add(key)
        if region is None and target == rgb.size:
            candidate = rgb
        else:
            candidate = rgb.resize(target, Image.Resampling.BICUBIC, box=region)
        got, tried = read_geometry(candidate, params)
        readings += tried
        if got is None:
            continue
        if got.valid and got.confidence >= SURE:
            return Search(got, readings, name)
        if best is None or (got.valid, got.confidence) > (best.valid, best.confidence):
            best, where = got, name
    return Search(best, readings, where if best is not None and best.valid else "")
