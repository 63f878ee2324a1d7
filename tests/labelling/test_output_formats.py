"""Per-platform result formats keep every label: XMP, the badge and the invisible mark."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.labelling import watermark as wm
from core.labelling.badge import draw_badge
from core.labelling.metadata import DIGITAL_SOURCE_TYPE, xmp_packet
from core.labelling.output import encode_image
from core.media.codecs import image_xmp, sniff
from core.settings import Settings
from core.types import JobKind
from tests.labelling.images import picture


@pytest.mark.parametrize("platform,mime", [("telegram", "image/jpeg"), ("discord", "image/png"),
                                           ("playground", "image/png")])
def test_each_platform_gets_its_format_with_labels(platform: str, mime: str) -> None:
    s = Settings(_env_file=None)
    payload = wm.payload_for("job-out")
    img = wm.embed(draw_badge(picture(8, (512, 512))), payload)
    out = encode_image(img, xmp_packet(kind=JobKind.IMAGE, producer="Reelsmith", job_id="job-out", model="m"),
                       platform, s)
    sniffed = sniff(out.data)
    assert out.mime == mime and sniffed is not None and sniffed.mime == mime and out.extension == sniffed.extension
    opened = Image.open(io.BytesIO(out.data))
    xmp = image_xmp(opened)
    assert DIGITAL_SOURCE_TYPE in xmp and "job-out" in xmp
    got = wm.decode(opened.convert("RGB"))
    assert wm.matches(got, payload) and got is not None and got.confidence > 0.9


def test_png_level_is_a_setting() -> None:
    img = picture(9, (256, 256))
    fast = encode_image(img, b"<x/>", "discord", Settings(_env_file=None, png_compress_level=1)).data
    small = encode_image(img, b"<x/>", "discord", Settings(_env_file=None, png_compress_level=9)).data
    assert len(small) < len(fast)
    assert Image.open(io.BytesIO(fast)).tobytes() == Image.open(io.BytesIO(small)).tobytes() == img.tobytes()
