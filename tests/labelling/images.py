"""Synthetic test pictures: smooth colour fields with texture, like generated images (not flat, not noise)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def picture(seed: int, size: tuple[int, int] = (256, 256)) -> Image.Image:
    rs = np.random.RandomState(seed)
    w, h = size
    base = Image.fromarray((rs.rand(max(2, h // 32), max(2, w // 32), 3) * 255).astype(np.uint8)).resize(
        size, Image.Resampling.BICUBIC)
    texture = Image.fromarray((rs.rand(h, w, 3) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))
    return Image.blend(base, texture, 0.25)


def jpeg(img: Image.Image, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def reopen(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def half(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 2, img.height // 2), Image.Resampling.BICUBIC)
