"""Canvas sizes and pixels: zoom and pan placements, masks told from pictures, the kept area pasted back."""

from __future__ import annotations

from PIL import Image

from core.canvas.compose import canvas_and_mask, is_mask, keep_unmasked, white_pixels
from core.canvas.geometry import fitted, pan, zoom_out


def test_zoom_out_centres_the_source_and_counts_only_new_pixels() -> None:
    place = zoom_out(64, 64, 2.0, 256)
    assert (place.size, place.source_size, place.offset) == ((128, 128), (64, 64), (32, 32))
    assert place.new_pixels == 128 * 128 - 64 * 64
    wide = zoom_out(64, 32, 1.5, 256)
    assert wide.size == (96, 48) and wide.offset == (16, 8)


def test_a_zoom_past_the_size_limit_shrinks_the_source() -> None:
    place = zoom_out(200, 100, 2.0, 256)
    assert place.size == (256, 128) and max(place.size) <= 256
    assert place.source_size == (128, 64) and place.offset == (64, 32)


def test_pan_grows_one_side_by_half() -> None:
    right, left = pan(64, 64, "right", 256), pan(64, 64, "left", 256)
    assert right.size == left.size == (96, 64)
    assert right.offset == (0, 0) and left.offset == (32, 0)
    up, down = pan(64, 32, "up", 256), pan(64, 32, "down", 256)
    assert up.size == (64, 48) and up.offset == (0, 16) and down.offset == (0, 0)
    assert fitted(300, 200, 256) == (256, 160)


def test_masks_are_two_grey_colours_of_the_same_shape() -> None:
    source = Image.new("RGB", (64, 32), (200, 30, 30))
    mask = Image.new("L", (128, 64), 0)
    mask.paste(255, (0, 0, 64, 64))
    assert is_mask(mask, source)
    assert not is_mask(mask.resize((64, 64)), source)  # another shape
    assert not is_mask(Image.new("RGB", (64, 32), (0, 0, 200)), source)  # dark, but blue: a picture
    assert not is_mask(Image.linear_gradient("L").resize((64, 32)), source)  # every grey
    assert white_pixels(mask, (64, 32)) == 32 * 32


def test_the_kept_area_is_pasted_back_exactly() -> None:
    source = Image.effect_noise((32, 32), 60).convert("RGB")
    canvas, mask = canvas_and_mask(source, zoom_out(32, 32, 2.0, 256))
    drawn = Image.new("RGB", (64, 64), (0, 255, 0))
    out = keep_unmasked(drawn, canvas, mask)
    assert out.crop((16, 16, 48, 48)).tobytes() == source.tobytes()
    assert out.getpixel((0, 0)) == (0, 255, 0) and out.getpixel((63, 63)) == (0, 255, 0)
