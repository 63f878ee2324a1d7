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


@lru_cache(maxsize=32)
def _patch(size: tuple[int, int], style: BadgeStyle) -> tuple[tuple[int, int, int, int], Image.Image] | None:
    """The badge for one frame size: its box and the RGBA patch to composite there (drawn once per size)."""
    w, h = size
    font_px = max(style.min_text_px, round(min(w, h) * style.scale))
    font = _font(font_px)
    stroke = max(1, font_px // 12)
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), style.text, font=font, stroke_width=stroke)
    pad_x, pad_y = max(3, font_px // 2), max(2, font_px // 4)
    bw, bh = min(w, right - left + 2 * pad_x), min(h, bottom - top + 2 * pad_y)
    margin = max(1, min(w, h) // 50)
    x = margin if style.corner.endswith("left") else w - bw - margin
    y = margin if style.corner.startswith("top") else h - bh - margin
    x, y = max(0, x), max(0, y)
    draw.rounded_rectangle((x, y, x + bw - 1, y + bh - 1), radius=bh // 2, fill=(0, 0, 0, style.opacity),
                           outline=(255, 255, 255, 200), width=max(1, font_px // 16))
    draw.text((x + pad_x - left, y + pad_y - top), style.text, font=font, fill=(255, 255, 255, 255),
              stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
    box = overlay.getbbox(alpha_only=True)  # the text's stroke may reach past the pill on tiny frames
    return None if box is None else (box, overlay.crop(box))


def draw_badge(img: Image.Image, style: BadgeStyle = BadgeStyle(), *, in_place: bool = False) -> Image.Image:
    """A copy of `img` (as RGB) with the badge in its corner; with `in_place`, an RGB `img` itself.

    Only the badge's box is composited: outside it the overlay is fully transparent, so the pixels are
    the frame's own, and a 1024 px frame costs a few hundred pixels of blending instead of a million.
    """
    out = img.convert("RGB") if img.mode != "RGB" else img if in_place else img.copy()
    patch = _patch(img.size, style)
    if patch is None:
        return out
    box, overlay = patch
    region = img.crop(box).convert("RGBA")
    out.paste(Image.alpha_composite(region, overlay).convert("RGB"), box[:2])
    return out


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


def badge_frames(frames: list[Image.Image], style: BadgeStyle, *, in_place: bool = False) -> list[Image.Image]:
    """Every frame badged; video frames share one size, so the badge sits still (and is drawn once).

    With `in_place` the RGB frames themselves get it (a frame listed twice, once), instead of a copy each.
    """
    if not in_place:
        return [draw_badge(f, style) for f in frames]
    done: dict[int, Image.Image] = {}
    for f in frames:
        if id(f) not in done:
            done[id(f)] = draw_badge(f, style, in_place=True)
    return [done[id(f)] for f in frames]
