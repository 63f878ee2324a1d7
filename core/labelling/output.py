"""The labelled result's file format, chosen once in the worker for the platform it goes to.

What each platform gets (REELSMITH_RESULT_IMAGE_FORMATS, others PNG):
- Telegram: JPEG (REELSMITH_JPEG_QUALITY) with the XMP packet. sendPhoto turns every photo into a JPEG
  anyway; one made here fits the photo limits as it is, so the adapter sends it without a second encode.
- Discord, the playground and the rest: PNG at REELSMITH_PNG_COMPRESS_LEVEL with the XMP packet (iTXt):
  they show the file as sent.
Every format keeps the visible badge and the invisible mark (both in the pixels; the mark is made to
survive JPEG q75), the XMP label, and C2PA when signing is configured (it signs PNG and JPEG alike).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from core.media.codecs import encode_png
from core.settings import Settings


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime: str
    extension: str


def encode_jpeg(img: Image.Image, xmp: bytes | None, quality: int) -> bytes:
    """Baseline JPEG with the XMP packet in its APP1 segment."""
    buf = io.BytesIO()
    extra: dict[str, object] = {"xmp": xmp} if xmp else {}
    img.convert("RGB").save(buf, format="JPEG", quality=quality, **extra)
    return buf.getvalue()


def encode_image(img: Image.Image, xmp: bytes, platform: str, settings: Settings) -> Encoded:
    """The image as `platform` should get it, its XMP label inside."""
    if settings.result_image_formats.get(platform) == "jpeg":
        return Encoded(encode_jpeg(img, xmp, settings.jpeg_quality), "image/jpeg", "jpg")
    return Encoded(encode_png(img, xmp, settings.png_compress_level), "image/png", "png")
