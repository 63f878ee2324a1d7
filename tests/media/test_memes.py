"""Meme captions: drawn where they belong, wrapped and shrunk, CJK and emoji drawn from the bundled fonts."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.media.memes import _face_for, layout, normalize_caption, render_meme, wrap


def _changed(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Share of pixels in `box` that differ."""
    x = np.asarray(a.crop(box)).astype(int)
    y = np.asarray(b.crop(box)).astype(int)
    return float((np.abs(x - y).sum(axis=2) > 30).mean())


def test_caption_changes_top_and_bottom_but_not_middle() -> None:
    base = Image.new("RGB", (320, 240), (40, 90, 160))
    [out] = render_meme([base], "top text", "bottom text")
    assert _changed(base, out, (0, 0, 320, 60)) > 0.05
    assert _changed(base, out, (0, 180, 320, 240)) > 0.05
    assert _changed(base, out, (0, 100, 320, 140)) == 0.0
    px = np.asarray(out).reshape(-1, 3)
    assert ((px > 240).all(axis=1)).any() and ((px < 15).all(axis=1)).any()  # white fill, black outline


def test_only_bottom() -> None:
    base = Image.new("RGB", (200, 200), (120, 120, 120))
    [out] = render_meme([base], "", "only at the bottom")
    assert _changed(base, out, (0, 0, 200, 60)) == 0.0
    assert _changed(base, out, (0, 140, 200, 200)) > 0.03


def test_long_text_wraps_and_shrinks_to_fit() -> None:
    short = layout("hi", 320, 240)
    long = layout("this caption is far too long to fit on a single line of a small meme picture", 320, 240)
    assert len(short.lines) == 1
    assert len(long.lines) > 1 and long.size < short.size
    assert long.height <= 240 * 0.3
    assert " ".join(long.lines) == normalize_caption("this caption is far too long to fit on a single line "
                                                     "of a small meme picture")
    huge = layout("word " * 400, 64, 64)  # cannot fit even at the smallest size: cut with an ellipsis
    assert huge.lines[-1].endswith("\u2026") and huge.height <= 64 * 0.3


def test_cjk_wraps_between_characters_and_uses_the_cjk_font() -> None:
    text = "\u4eca\u5929\u7684\u6d4b\u8bd5\u5168\u90e8\u901a\u8fc7\u4e86\u592a\u597d\u4e86"
    assert _face_for("\u4eca") == 1 and _face_for("A") == 0
    lines = wrap(text, 24, 100)
    assert len(lines) > 1 and "".join(lines) == text
    base = Image.new("RGB", (160, 120), (0, 0, 0))
    [out] = render_meme([base], text, "")
    assert _changed(base, out, (0, 0, 160, 40)) > 0.05


def test_emoji_are_drawn_or_spelled_out_never_boxes() -> None:
    norm = normalize_caption("ok \U0001f44d\U0001f3fd \u2764\ufe0f \U0001fae0")
    assert "\U0001f3fd" not in norm and "\ufe0f" not in norm  # skin tone and variation selector dropped
    assert "\u2764" in norm  # DejaVu has the heart
    assert ":melting face:" in norm  # no bundled font has it: spelled out
    assert all(_face_for(ch) is not None for ch in norm)


def test_every_frame_gets_the_caption() -> None:
    frames = [Image.new("RGB", (96, 96), (30 * i, 60, 90)) for i in range(5)]
    out = render_meme(frames, "every", "frame")
    assert len(out) == 5
    for before, after in zip(frames, out, strict=True):
        assert _changed(before, after, (0, 0, 96, 25)) > 0.03
