"""Canvas pixels: the source placed on a canvas with its mask, a member's mask told from a picture, and the
kept area pasted back onto what the model drew."""

from __future__ import annotations

from PIL import Image

from core.canvas.geometry import Placement

WHITE, BLACK = 255, 0
FILL = (127, 127, 127)  # the new area before the model draws it (strength 1: never seen through)
# A mask is a picture of (nearly) two colours: dark pixels keep, light ones repaint; JPEG noise is allowed.
DARK, LIGHT = 64, 192
MASK_SHARE = 0.97  # this share of its pixels must be dark or light
ASPECT_TOLERANCE = 0.02


def canvas_and_mask(source: Image.Image, place: Placement) -> tuple[Image.Image, Image.Image]:
    """The canvas (the source at its place, grey elsewhere) and its mask (white where the model draws)."""
    canvas = Image.new("RGB", place.size, FILL)
    canvas.paste(source.convert("RGB").resize(place.source_size), place.offset)
    mask = Image.new("L", place.size, WHITE)
    x, y = place.offset
    mask.paste(BLACK, (x, y, x + place.source_size[0], y + place.source_size[1]))
    return canvas, mask


def binary(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The mask at `size`, each pixel white (repaint) or black (keep)."""
    return mask.convert("L").resize(size).point(lambda v: WHITE if v >= 128 else BLACK)


def keep_unmasked(drawn: Image.Image, canvas: Image.Image, mask: Image.Image) -> Image.Image:
    """What the model drew where the mask is white; the canvas, pixel for pixel, everywhere else."""
    size = drawn.size
    return Image.composite(drawn.convert("RGB"), canvas.convert("RGB").resize(size), binary(mask, size))


def white_pixels(mask: Image.Image, size: tuple[int, int]) -> int:
    """How many pixels of the canvas the mask repaints."""
    return binary(mask, size).histogram()[WHITE]


def is_mask(candidate: Image.Image, source: Image.Image) -> bool:
    """Whether `candidate` is a black and white mask for `source`: (nearly) two colours, the same shape."""
    if abs(candidate.width / candidate.height - source.width / source.height) > ASPECT_TOLERANCE * (
            source.width / source.height):
        return False
    rgb = candidate.convert("RGB")
    saturation = rgb.convert("HSV").split()[1].histogram()
    histogram = rgb.convert("L").histogram()
    total = sum(histogram)
    grey = sum(saturation[:DARK])  # a pure blue picture is dark too, but not grey
    extremes = sum(histogram[:DARK]) + sum(histogram[LIGHT:])
    return total > 0 and min(grey, extremes) >= MASK_SHARE * total
