"""Classic meme captions: white text with a black outline at the top and bottom of an image or every frame.

Long lines wrap (at spaces, or between characters for CJK and very long words) and the text shrinks
until it fits. Glyphs come from the bundled open fonts in `core/assets/` (DejaVu Sans Bold for Latin,
Greek, Cyrillic and symbols; Droid Sans Fallback for CJK); an emoji no font has is written as its
`:name:`, so nothing turns into empty boxes. The caption is drawn once on a transparent overlay and
composited onto each frame, so a long GIF costs one layout.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_FILES = ("DejaVuSans-Bold.ttf", "DroidSansFallback.ttf")
MAX_BLOCK_SHARE = 0.3  # one caption block may cover at most this share of the image height
MIN_FONT_PX = 8
MARGIN_SHARE = 0.03
# Invisible emoji plumbing that no font draws on its own: variation selectors, joiners, skin tones.
_SKIP = {0xFE0E, 0xFE0F, 0x200D, *range(0x1F3FB, 0x1F400)}
_MISSING = "\u25a1"  # a white square, drawn by DejaVu


@dataclass(frozen=True)
class _Face:
    path: str
    codepoints: frozenset[int]


@lru_cache(maxsize=1)
def _faces() -> tuple[_Face, ...]:
    from fontTools.ttLib import TTFont

    faces = []
    for name in FONT_FILES:
        path = str(Path(str(resources.files("core").joinpath("assets", name))))
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
        faces.append(_Face(path, frozenset(cmap)))
    return tuple(faces)


@lru_cache(maxsize=64)
def _font(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_faces()[index].path, size)


def _face_for(ch: str) -> int | None:
    cp = ord(ch)
    for i, face in enumerate(_faces()):
        if cp in face.codepoints:
            return i
    return None


def normalize_caption(text: str) -> str:
    """Upper-case (the classic look), drop emoji joiners, and spell out characters no bundled font has."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text.upper()):
        if ord(ch) in _SKIP:
            continue
        if ch.isspace():
            out.append(" ")
        elif _face_for(ch) is not None:
            out.append(ch)
        elif unicodedata.category(ch) == "So":
            out.append(f":{unicodedata.name(ch, 'emoji').lower()}:")
        else:
            out.append(_MISSING)
    return " ".join("".join(out).split())


def _runs(text: str) -> list[tuple[int, str]]:
    """Split text into runs that one font draws."""
    runs: list[tuple[int, str]] = []
    for ch in text:
        face = _face_for(ch)
        idx = 0 if face is None else face
        if runs and runs[-1][0] == idx:
            runs[-1] = (idx, runs[-1][1] + ch)
        else:
            runs.append((idx, ch))
    return runs


def _width(text: str, size: int) -> float:
    return sum(_font(i, size).getlength(run) for i, run in _runs(text))


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Words, with every CJK character a word of its own (CJK lines break between any two characters)."""
    tokens: list[str] = []
    for word in text.split(" "):
        buf = ""
        for ch in word:
            if _is_wide(ch):
                if buf:
                    tokens.append(buf)
                    buf = ""
                tokens.append(ch)
            else:
                buf += ch
        if buf:
            tokens.append(buf)
        tokens.append(" ")
    return tokens[:-1]


def wrap(text: str, size: int, max_width: float) -> list[str]:
    """Greedy wrap at spaces and CJK characters; a word wider than a line is broken between characters."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if token == " ":
            if line:
                line += " "
            continue
        if _width(line + token, size) <= max_width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        for ch in token:  # a word too long for any line: break it
            if line and _width(line + ch, size) > max_width:
                lines.append(line)
                line = ""
            line += ch
    if line.strip():
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class CaptionLayout:
    size: int
    lines: list[str]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def layout(text: str, width: int, height: int) -> CaptionLayout:
    """The largest font size at which `text` fits the width in at most MAX_BLOCK_SHARE of the height."""
    text = normalize_caption(text)
    max_w = width * (1 - 2 * MARGIN_SHARE)
    max_h = height * MAX_BLOCK_SHARE
    size = max(MIN_FONT_PX, height // 7)
    while True:
        lines = wrap(text, size, max_w)
        line_h = int(size * 1.15) + 1
        if size <= MIN_FONT_PX or line_h * len(lines) <= max_h:
            break
        size = max(MIN_FONT_PX, int(size * 0.9))
    keep = max(1, int(max_h // line_h))
    if len(lines) > keep:  # still too long at the smallest size: cut, and say so with an ellipsis
        lines = lines[:keep]
        lines[-1] = lines[-1].rstrip()[:-1] + "\u2026"
    return CaptionLayout(size, lines, line_h)


def caption_overlay(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    """A transparent RGBA layer with the captions drawn on it."""
    width, height = size
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    margin = max(1, int(height * MARGIN_SHARE))
    for text, at_top in ((top, True), (bottom, False)):
        if not text.strip():
            continue
        lay = layout(text, width, height)
        y0 = margin if at_top else height - margin - lay.height
        stroke = max(1, lay.size // 12)
        for n, line in enumerate(lay.lines):
            x = (width - _width(line, lay.size)) / 2
            baseline = y0 + n * lay.line_height + int(lay.size * 0.95)
            for idx, run in _runs(line):
                font = _font(idx, lay.size)
                draw.text((x, baseline), run, font=font, fill=(255, 255, 255, 255), anchor="ls",
                          stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
                x += font.getlength(run)
    return overlay


def render_meme(frames: list[Image.Image], top: str, bottom: str) -> list[Image.Image]:
    """Every frame with the captions on it (one layout for all frames)."""
    if not frames or not (top.strip() or bottom.strip()):
        return frames
    overlay = caption_overlay(frames[0].size, top, bottom)
    out = []
    for frame in frames:
        base = frame.convert("RGBA")
        if base.size != overlay.size:
            base = base.resize(overlay.size)
        out.append(Image.alpha_composite(base, overlay).convert("RGB"))
    return out
