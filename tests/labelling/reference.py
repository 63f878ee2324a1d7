"""The labelling code as it was before the fast path (frozen): the equivalence tests and bench/fast_path.py
compare the optimised badge and watermark against it. Only which bit each block carries follows the current
`watermark.layout` (the tile of issue 19, for crops); the transform is the one frozen here."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from core.labelling import watermark as wm
from core.labelling.badge import BadgeStyle, _font


def embed(img: Image.Image, payload: int, params: wm.WatermarkParams = wm.WatermarkParams()) -> Image.Image:
    """invisible-watermark's dwtDctSvd embed, full YUV, all four Haar bands, full SVD reconstruction."""
    rgb = np.asarray(img.convert("RGB"))
    h, w = rgb.shape[:2]
    if w * h < wm.MIN_PIXELS:
        return img
    h4, w4 = h // 4 * 4, w // 4 * 4
    yuv = wm._yuv(rgb[:h4, :w4])
    plane = yuv[..., params.channel].copy()
    ll, h1, h2, hh = wm._haar(plane)
    n = params.block
    blocks, rows, cols = wm._blocks(ll, n)
    d = wm._dct_matrix(n)
    coeffs = d @ blocks @ d.T
    u, s, vt = np.linalg.svd(coeffs)
    bits = wm._bits(payload)[wm.layout(rows, cols)]  # today's bit layout (the tile); the transform is frozen
    s[:, 0] = (s[:, 0] // params.scale + 0.25 + 0.5 * bits) * params.scale
    marked = d.T @ (u @ (s[:, :, None] * vt)) @ d
    ll2 = ll.copy()
    ll2[: rows * n, : cols * n] = marked.reshape(rows, cols, n, n).transpose(0, 2, 1, 3).reshape(rows * n, cols * n)
    changed = wm._ihaar(ll2, h1, h2, hh)
    out = rgb.copy()
    if params.channel == 0:
        delta = changed - plane
        out[:h4, :w4] = np.clip(np.rint(rgb[:h4, :w4] + delta[..., None]), 0, 255).astype(np.uint8)
    else:
        yuv[..., params.channel] = changed
        out[:h4, :w4] = wm._rgb(yuv)
    return Image.fromarray(out)


def draw_badge(img: Image.Image, style: BadgeStyle = BadgeStyle()) -> Image.Image:
    """The badge composited over a full-size overlay."""
    base = img.convert("RGBA")
    w, h = base.size
    size = max(style.min_text_px, round(min(w, h) * style.scale))
    font = _font(size)
    stroke = max(1, size // 12)
    probe = ImageDraw.Draw(base)
    left, top, right, bottom = probe.textbbox((0, 0), style.text, font=font, stroke_width=stroke)
    pad_x, pad_y = max(3, size // 2), max(2, size // 4)
    bw, bh = min(w, right - left + 2 * pad_x), min(h, bottom - top + 2 * pad_y)
    margin = max(1, min(w, h) // 50)
    x = margin if style.corner.endswith("left") else w - bw - margin
    y = margin if style.corner.startswith("top") else h - bh - margin
    x, y = max(0, x), max(0, y)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((x, y, x + bw - 1, y + bh - 1), radius=bh // 2, fill=(0, 0, 0, style.opacity),
                           outline=(255, 255, 255, 200), width=max(1, size // 16))
    draw.text((x + pad_x - left, y + pad_y - top), style.text, font=font, fill=(255, 255, 255, 255),
              stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
    return Image.alpha_composite(base, overlay).convert("RGB")


def encode_png(img: Image.Image, xmp: bytes | None = None) -> bytes:
    """PNG at Pillow's default compress level 6, as the worker saved results."""
    info = PngInfo()
    if xmp:
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, optimize=False)
    return buf.getvalue()
