"""The invisible watermark in torch, for frames that are still tensors on the accelerator.

The same reduced transform as `watermark.embed_array` (Y channel, Haar LL band, the 4x4 blocks' top
singular value quantised, an LL change of d moving each of its 2x2 pixels by d / 2), op for op, in
float64 on the frames' own device, so a GPU worker marks frames where they were rendered and only the
marked uint8 frames travel to the encoder. Power iteration is a handful of batched matmuls (what a
GPU does well); the blocks it does not settle go to `torch.linalg.svd` in the DCT domain, as in NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from core.labelling.watermark import WatermarkParams, _dct_matrix, layout
from core.labelling.watermark import _bits as _code_bits

if TYPE_CHECKING:
    import torch

_POWER_STEPS = 4  # enough for image blocks (one value dominates); the rest go to LAPACK
_POWER_TOL = 1e-9


def _bits(payload: int, rows: int, cols: int, device: torch.device) -> torch.Tensor:
    import torch

    # The same codeword, laid out on the same tile, as NumPy embeds.
    return torch.from_numpy(_code_bits(payload)[layout(rows, cols)]).to(device)


def _top_singular(blocks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch

    gram = blocks.transpose(1, 2) @ blocks
    v = torch.full(blocks.shape[:2], 1.0 / float(np.sqrt(blocks.shape[1])), dtype=blocks.dtype, device=blocks.device)
    for _ in range(_POWER_STEPS):
        w = (gram @ v[:, :, None])[:, :, 0]
        v = w / torch.linalg.vector_norm(w, dim=1, keepdim=True).clamp_min(1e-300)
    gv = (gram @ v[:, :, None])[:, :, 0]
    lam = (v * gv).sum(dim=1)
    residual = torch.linalg.vector_norm(gv - lam[:, None] * v, dim=1)
    bad = ~(residual <= _POWER_TOL * lam.clamp_min(1e-300)) | (lam <= 1e-6)
    s0 = lam.clamp_min(0.0).sqrt()
    u = (blocks @ v[:, :, None])[:, :, 0] / s0.clamp_min(1e-300)[:, None]
    if bool(bad.any()):
        d = torch.from_numpy(_dct_matrix(blocks.shape[1])).to(blocks)
        uu, ss, vt = torch.linalg.svd(d @ blocks[bad] @ d.T)
        s0[bad], u[bad], v[bad] = ss[:, 0], uu[:, :, 0] @ d, vt[:, 0, :] @ d
    return s0, u, v


def embed_tensor(rgb: torch.Tensor, payload: int, params: WatermarkParams = WatermarkParams()) -> torch.Tensor:
    """uint8 RGB frames (F, H, W, 3) or one (H, W, 3), marked on their device; a new tensor.

    Frames under 256x256 are returned unchanged, as `watermark.embed` does.
    """
    import torch

    if params.channel != 0:
        raise ValueError("the torch watermark marks the Y channel only")
    single = rgb.dim() == 3
    frames = rgb[None] if single else rgb
    f, h, w = frames.shape[:3]
    if w * h < 256 * 256:
        return rgb
    n = params.block
    rows, cols = h // 4 * 2 // n, w // 4 * 2 // n
    area = frames[:, : rows * n * 2, : cols * n * 2].to(torch.float64)
    quad = area[:, 0::2, 0::2] + area[:, 0::2, 1::2] + area[:, 1::2, 0::2] + area[:, 1::2, 1::2]
    luma = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64, device=rgb.device)
    ll = (quad @ luma) * 0.5
    blocks = ll.reshape(f, rows, n, cols, n).permute(0, 1, 3, 2, 4).reshape(-1, n, n)
    s0, u, v = _top_singular(blocks)
    bits = _bits(payload, rows, cols, rgb.device).repeat(f)
    target = (torch.div(s0, params.scale, rounding_mode="floor") + 0.25 + 0.5 * bits) * params.scale
    delta = (target - s0)[:, None, None] * u[:, :, None] * v[:, None, :]
    half = torch.round(delta.reshape(f, rows, cols, n, n).permute(0, 1, 3, 2, 4) * 0.5).to(torch.int16)
    out = frames.clone()
    region = out[:, : rows * n * 2, : cols * n * 2].reshape(f, rows * n, 2, cols * n, 2, 3)
    marked = region.to(torch.int16) + half.reshape(f, rows * n, 1, cols * n, 1, 1)
    out[:, : rows * n * 2, : cols * n * 2] = marked.clamp(0, 255).to(torch.uint8).reshape(
        f, rows * n * 2, cols * n * 2, 3)
    return out[0] if single else out


def embed_frames_torch(frames: list[Image.Image], payload: int, params: WatermarkParams,
                       device: str) -> list[Image.Image]:
    """`watermark.embed_frames` with the transform on a torch `device`: each size's frames go up once, marked
    together, and come back as uint8 (a GPU worker's CPU stays free for encoding)."""
    import torch

    out: list[Image.Image] = list(frames)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, frame in enumerate(frames):
        if frame.width * frame.height >= 256 * 256:
            by_size.setdefault(frame.size, []).append(i)
    for indices in by_size.values():
        rgb = np.stack([np.asarray(frames[i] if frames[i].mode == "RGB" else frames[i].convert("RGB"))
                        for i in indices])
        marked = embed_tensor(torch.from_numpy(rgb).to(device), payload, params).cpu().numpy()
        for i, arr in zip(indices, marked, strict=True):
            out[i] = Image.fromarray(arr)
    return out
