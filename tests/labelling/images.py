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


def crop_sides(img: Image.Image, fraction: float = 0.05) -> Image.Image:
    """The picture with `fraction` of its width and height cut from each side."""
    dx, dy = round(img.width * fraction), round(img.height * fraction)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def screenshot(img: Image.Image, factor: float = 0.8, colour: tuple[int, int, int] = (49, 51, 56)) -> Image.Image:
    """The picture as a screenshot shows it: on a flat app background (a taller bar above), all rescaled."""
    canvas = Image.new("RGB", (img.width + 2 * 18, img.height + 56 + 22), colour)
    canvas.paste(img.convert("RGB"), (18, 56))
    return canvas.resize((round(canvas.width * factor), round(canvas.height * factor)), Image.Resampling.LANCZOS)
