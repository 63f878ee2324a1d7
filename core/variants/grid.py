"""Several images as one 2x2 grid (Discord with REELSMITH_DISCORD_GRID), each cell numbered like its buttons."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from core.media.codecs import encode_png

GAP = 4  # px between cells, so the images read as separate


def grid_image(images: list[bytes]) -> bytes:
    """A PNG of up to four images in a 2x2 grid (cells the first image's size), each numbered in its corner.

    Each image keeps its own badge and watermark in its cell (they were drawn on its pixels before); the grid
    carries the first image's XMP label (the same job)."""
    raw = [Image.open(io.BytesIO(data)) for data in images[:4]]
    xmp = raw[0].info.get("XML:com.adobe.xmp")
    opened = [img.convert("RGB") for img in raw]
    w, h = opened[0].size
    cols = 1 if len(opened) == 1 else 2
    rows = (len(opened) + cols - 1) // cols
    grid = Image.new("RGB", (cols * w + (cols - 1) * GAP, rows * h + (rows - 1) * GAP), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for i, img in enumerate(opened):
        x, y = (i % cols) * (w + GAP), (i // cols) * (h + GAP)
        grid.paste(img.resize((w, h)), (x, y))
        side = max(8, min(w, h) // 6)
        draw.rectangle((x, y + h - side, x + side, y + h), fill=(0, 0, 0))
        draw.text((x + 2, y + h - side), str(i + 1), fill=(255, 255, 255))
    return encode_png(grid, xmp.encode("utf-8") if isinstance(xmp, str) else xmp)
