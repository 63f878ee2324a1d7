"""The visible label: a corner badge on every image and video frame, and an optional opening card for videos.

The badge is a semi-opaque dark pill with white, dark-outlined text, so it reads on light, dark and
busy backgrounds alike; it scales with the image's short side so it stays legible after platforms
shrink the picture, without covering much of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]


@dataclass(frozen=True)
class BadgeStyle:
    text: str = "AI"
    corner: Corner = "bottom-right"
    scale: float = 0.045  # text height as a fraction of the image's short side
    min_text_px: int = 9
    opacity: int = 170  # of the dark pill, 0-255


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_badge(img: Image.Image, style: BadgeStyle = BadgeStyle()) -> Image.Image:
    """A copy of `img` with the badge in its corner."""
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


def label_card(first: Image.Image, title: str, subtitle: str) -> Image.Image:
    """An opening card: the first frame blurred and darkened, with the label centred on it."""
    w, h = first.size
    card = first.convert("RGB").filter(ImageFilter.GaussianBlur(max(2, min(w, h) // 30)))
    card = Image.blend(card, Image.new("RGB", card.size, (0, 0, 0)), 0.65)
    draw = ImageDraw.Draw(card)
    big = _font(max(10, round(min(w, h) * 0.11)))
    small = _font(max(8, round(min(w, h) * 0.05)))
    for text, font, dy in ((title, big, -0.06), (subtitle, small, 0.08)):
        draw.text((w / 2, h / 2 + dy * h), text, font=font, anchor="mm", fill=(255, 255, 255),
                  stroke_width=max(1, int(font.size) // 14) if isinstance(font, ImageFont.FreeTypeFont) else 1,
                  stroke_fill=(0, 0, 0))
    return card


def badge_frames(frames: list[Image.Image], style: BadgeStyle) -> list[Image.Image]:
    """Every frame badged; video frames share one size, so the badge sits still."""
    return [draw_badge(f, style) for f in frames]
