"""The video watermark: one static, smooth luma pattern carrying the job's codeword, the same in every frame.

Why not the image mark on every frame: its change depends on each frame's content, so across a clip it
is fresh block detail in every frame that x264 has to carry (a panning clip grew tenfold) and that CRF,
downscaling and a 360p transcode smear. This mark is content-independent and coarse instead: the frame
(at its generation size) is cut into `cell`-pixel cells, each cell carries one codeword bit times a fixed
pseudo-random sign, bits are spread over the whole frame, and the cell grid is bicubically smoothed into a
luma field of +-`amplitude` levels. It is computed once per clip and added to R, G and B alike (with U and
V fixed that is exactly a change of Y) in one C pass a frame. Low spatial frequency survives H.264 at CRF
28, a 0.5x downscale and a 360p transcode; a static pattern survives any trim.

Reading is blind: each cell's centre-weighted mean luma minus the mean of its eight neighbours (what the
smooth picture around it predicts), divided by the residual level around it, is a vote for its bit, soft
(tanh, so an edge in the picture cannot outvote many cells), averaged over the frames read (a moving picture
averages out, the mark does not). The per-bit scores go through the same codeword decoder as images
(`payload.decode_soft`: CRC-12 and BCH), and a reading whose votes carry almost nothing (a flat clip) is never
valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageChops

from core.labelling import payload as codeword
from core.labelling.payload import CODE_BITS
from core.labelling.watermark import MIN_PIXELS, Decoded

if TYPE_CHECKING:
    import torch

_LAYOUT_SEED = 0x5EE15  # fixed: the marker and every reader must agree on the cells' bits and signs
MIN_CONFIDENCE = 0.01  # mean |2 * score - 1| under this is no reading at all (flat or featureless frames)


@dataclass(frozen=True)
class VideoMarkParams:
    """The pattern's geometry and strength; defaults are tuned in bench/labelling.py (video section)."""

    cell: int = 8  # pixels per cell at the generation size (larger: sturdier to scaling, more picture interference)
    amplitude: float = 3.5  # luma levels at a cell's centre before smoothing (PSNR ~39 dB; 3 lost 0.5x + CRF 28)


@lru_cache(maxsize=16)
def _layout(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(bit index, sign) per cell: every bit gets an equal share of cells, spread pseudo-randomly."""
    rs = np.random.RandomState(_LAYOUT_SEED)
    n = rows * cols
    bit = np.resize(np.arange(CODE_BITS), n)[rs.permutation(n)].reshape(rows, cols)
    sign = (rs.randint(0, 2, n) * 2 - 1).reshape(rows, cols)
    return bit, sign


def _grid(size: tuple[int, int], params: VideoMarkParams) -> tuple[int, int]:
    w, h = size
    return h // params.cell, w // params.cell


@lru_cache(maxsize=8)
def pattern(size: tuple[int, int], payload: int, params: VideoMarkParams = VideoMarkParams()) -> np.ndarray:
    """The int16 luma change (H, W) a frame of `size` gets for `payload` (read-only, cached per clip)."""
    w, h = size
    rows, cols = _grid(size, params)
    out = np.zeros((h, w), dtype=np.int16)
    if rows < 3 or cols < 3:
        return out
    bit, sign = _layout(rows, cols)
    bits = np.array(codeword.bits_of(codeword.encode(payload)), dtype=np.float32)
    cells = (params.amplitude * sign * (2 * bits[bit] - 1)).astype(np.float32)
    smooth = Image.fromarray(cells, mode="F").resize((cols * params.cell, rows * params.cell),
                                                     Image.Resampling.BICUBIC)
    out[: rows * params.cell, : cols * params.cell] = np.rint(np.asarray(smooth))
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def _offset_image(size: tuple[int, int], payload: int, params: VideoMarkParams) -> Image.Image:
    """The pattern + 128 as an RGB image, for Pillow's one-pass saturating add."""
    biased = np.clip(pattern(size, payload, params) + 128, 0, 255).astype(np.uint8)
    return Image.fromarray(np.repeat(biased[:, :, None], 3, axis=2))


def embed_clip(frames: Sequence[Image.Image], payload: int,
               params: VideoMarkParams = VideoMarkParams()) -> list[Image.Image]:
    """Every frame with the pattern added (frames under 256x256 are returned unchanged).

    Pillow's `add` computes clip(frame + (pattern + 128) - 128) in one C pass per frame: no NumPy copy in
    or out, and the pattern is built once per size.
    """
    out: list[Image.Image] = []
    for frame in frames:
        if frame.width * frame.height < MIN_PIXELS:
            out.append(frame)
            continue
        rgb = frame if frame.mode == "RGB" else frame.convert("RGB")
        out.append(ImageChops.add(rgb, _offset_image(rgb.size, payload, params), scale=1.0, offset=-128))
    return out


def luma_change(size: tuple[int, int], payload: int,
                params: VideoMarkParams = VideoMarkParams()) -> np.ndarray | None:
    """The change `embed_clip` makes to a frame of `size`, for an encoder to add to its Y plane (the MP4
    writer: `core.media.codecs.encode_mp4(luma_change=...)`), or None for frames too small to carry a mark."""
    w, h = size
    return None if w * h < MIN_PIXELS else pattern(size, payload, params)


def embed_array(rgb: np.ndarray, payload: int, params: VideoMarkParams = VideoMarkParams()) -> np.ndarray:
    """The same mark on uint8 RGB frames (F, H, W, 3) or one (H, W, 3): the reference the twins are held to."""
    h, w = rgb.shape[-3:-1]
    if w * h < MIN_PIXELS:
        return rgb.copy()
    change = pattern((w, h), payload, params)[:, :, None]
    return np.clip(rgb.astype(np.int16) + change, 0, 255).astype(np.uint8)


def embed_tensor(rgb: torch.Tensor, payload: int, params: VideoMarkParams = VideoMarkParams()) -> torch.Tensor:
    """The torch twin: uint8 RGB frames (F, H, W, 3) or one (H, W, 3) marked on their own device."""
    import torch

    h, w = rgb.shape[-3], rgb.shape[-2]
    if w * h < MIN_PIXELS:
        return rgb.clone()
    change = torch.from_numpy(np.array(pattern((w, h), payload, params))).to(rgb.device)[:, :, None]
    return (rgb.to(torch.int16) + change).clamp(0, 255).to(torch.uint8)


def luma_image(img: Image.Image) -> Image.Image:
    """The frame's luma as a float ("F") image: read once, then turned and scaled at a third of RGB's cost."""
    if img.mode == "F":
        return img
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    return Image.fromarray(np.ascontiguousarray(rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)), mode="F")


def _luma(img: Image.Image) -> np.ndarray:
    return np.asarray(luma_image(img), dtype=np.float32)


@lru_cache(maxsize=4)
def _centre_weights(cell: int) -> np.ndarray:
    """A tent over the cell, summing to 1: the smoothed pattern peaks at a cell's centre and blurs at its edges,
    so the centre pixels say more about the cell's bit than the edge ones."""
    tent = 1.0 - np.abs(np.arange(cell) + 0.5 - cell / 2) / (cell / 2) + 0.5 / cell
    weights = np.outer(tent, tent).astype(np.float32)
    return weights / weights.sum()


def _box3(a: np.ndarray) -> np.ndarray:
    padded = np.pad(a, 1, mode="edge")
    rows, cols = a.shape
    return sum((padded[i:i + rows, j:j + cols] for i in range(3) for j in range(3)), np.zeros_like(a))


def frame_votes(img: Image.Image, params: VideoMarkParams = VideoMarkParams()) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-bit sums of soft votes (0..1) and their counts for one frame at its own size (None if too small).

    A cell's residual (its centre-weighted mean minus the mean of its eight neighbours) is divided by the
    residual level around it before the tanh: where the picture is busy (edges, texture, what a downscale and
    CRF 28 leave as ringing) the same residual says less, so those cells vote softly and the quiet ones, where
    the mark is most of what is left, carry the reading (0.5x + CRF 28 on smooth clips: 3 -> 11 of 20 at the
    same amplitude in a prototype; with the centre weights and 3.5 levels 19 of 20, bench/README.md)."""
    if img.width * img.height < MIN_PIXELS:
        return None
    rows, cols = _grid(img.size, params)
    if rows < 3 or cols < 3:
        return None
    c = params.cell
    y = _luma(img)[: rows * c, : cols * c]
    means = np.einsum("acbd,cd->ab", y.reshape(rows, c, cols, c), _centre_weights(c))
    residual = means - (_box3(means) - means) / 8.0
    level = np.sqrt(_box3(residual * residual) / 9.0)
    bit, sign = _layout(rows, cols)
    votes = 0.5 + 0.5 * np.tanh(residual * sign / np.maximum(level, 0.5 * params.amplitude))
    return (np.bincount(bit.ravel(), weights=votes.ravel(), minlength=CODE_BITS),
            np.bincount(bit.ravel(), minlength=CODE_BITS).astype(np.float64))


def _reading(scores: np.ndarray, size: tuple[int, int]) -> Decoded:
    confidence = float(np.mean(np.abs(2 * scores - 1)))
    if confidence < MIN_CONFIDENCE:  # every vote a coin's edge: the soft decoder must not pick among ties
        return Decoded(codeword.decode(codeword.word_of(scores > 0.5)).payload, confidence, size, False, 0)
    reading = codeword.decode_soft(scores)
    return Decoded(reading.payload, confidence, size, reading.valid, reading.corrected)


def decode_at(frames: Iterable[Image.Image], size: tuple[int, int],
              params: VideoMarkParams = VideoMarkParams()) -> Decoded | None:
    """The reading of frames (RGB or `luma_image`s) scaled to `size` (the size they may have been generated at),
    votes pooled."""
    ones = np.zeros(CODE_BITS)
    counts = np.zeros(CODE_BITS)
    for frame in frames:
        scaled = frame if frame.size == size else luma_image(frame).resize(size, Image.Resampling.BICUBIC)
        got = frame_votes(scaled, params)
        if got is not None:
            ones += got[0]
            counts += got[1]
    if not counts.any():
        return None
    return _reading(ones / np.maximum(counts, 1), size)


def decode_clip(frames: Sequence[Image.Image], sizes: Iterable[tuple[int, int]] = (),
                params: VideoMarkParams = VideoMarkParams(), max_side: int = 4096) -> Decoded | None:
    """The best reading (valid first, then most confident) at the frames' own size and `sizes` they may
    have been scaled from; sizes with a side over `max_side` are skipped."""
    if not frames:
        return None
    best: Decoded | None = None
    seen: set[tuple[int, int]] = set()
    for size in (frames[0].size, *sizes):
        if size in seen or min(size) <= 0 or max(size) > max_side:
            continue
        seen.add(size)
        got = decode_at(frames, size, params)
        if got is not None and got.valid:
            return got
        if got is not None and (best is None or got.confidence > best.confidence):
            best = got
    return best
