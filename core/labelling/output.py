"""The labelled result's file format, chosen once in the worker for the platform it goes to."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from core.media.codecs import encode_png


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime: str
    extension: str


def encode_image(img: Image.Image, xmp: bytes, platform: str) -> Encoded:
    """The image as the platform should get it, its XMP label inside."""
    return Encoded(encode_png(img, xmp), "image/png", "png")
