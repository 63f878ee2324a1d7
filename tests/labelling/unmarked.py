"""Files /verify must not vouch for: flat colours, gradients, noise, the shipped photos, and results of another
install (marked with a valid codeword, recorded only in that install's registry). Shared by the test and
bench/verify_fp.py, which runs many more of them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from core.labelling import watermark as wm
from core.labelling.metadata import mp4_metadata, xmp_packet
from core.media.codecs import encode_mp4, encode_png
from core.types import JobKind
from tests.labelling.images import jpeg, picture

PHOTOS = sorted((Path(__file__).resolve().parent.parent / "moderation" / "data").glob("*.jpg"))
SIZES = [(256, 256), (512, 512), (320, 240), (768, 432)]


def _png(arr: np.ndarray) -> bytes:
    return encode_png(Image.fromarray(arr.astype(np.uint8)))


def flat(index: int) -> tuple[str, bytes]:
    """Flat colours: greys at every level, then colours, in PNG and JPEG."""
    rs = np.random.RandomState(index)
    w, h = SIZES[index % len(SIZES)]
    colour = (index * 37 % 256,) * 3 if index % 2 == 0 else tuple(int(c) for c in rs.randint(0, 256, 3))
    img = Image.new("RGB", (w, h), colour)
    data = encode_png(img) if index % 3 else jpeg(img, 90)
    return f"flat {colour} {w}x{h}", data


def gradient(index: int) -> tuple[str, bytes]:
    rs = np.random.RandomState(1000 + index)
    w, h = SIZES[index % len(SIZES)]
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    angle = rs.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    ramp = (ramp - ramp.min()) / max(1e-9, float(np.ptp(ramp)))
    lo, hi = rs.randint(0, 128, 3), rs.randint(128, 256, 3)
    arr = lo + ramp[..., None] * (hi - lo)
    return f"gradient {index} {w}x{h}", _png(arr) if index % 2 else jpeg(Image.fromarray(arr.astype(np.uint8)), 85)


def noise(index: int) -> tuple[str, bytes]:
    rs = np.random.RandomState(2000 + index)
    w, h = SIZES[index % len(SIZES)]
    arr = rs.rand(h, w, 3) * 255 if index % 2 else np.clip(128 + rs.randn(h, w, 3) * rs.uniform(2, 40), 0, 255)
    return f"noise {index} {w}x{h}", _png(arr)


def smooth(index: int) -> tuple[str, bytes]:
    """Smooth synthetic pictures, like a generated image that was never marked."""
    w, h = SIZES[index % len(SIZES)]
    return f"picture {index} {w}x{h}", jpeg(picture(3000 + index, (w, h)), 80)


def photo(index: int) -> tuple[str, bytes]:
    """The shipped photos, as they are and rescaled / recompressed."""
    path = PHOTOS[index % len(PHOTOS)]
    img = Image.open(path).convert("RGB")
    scale = (1.0, 0.5, 1.5, 2.0)[index // len(PHOTOS) % 4]
    if scale != 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.BICUBIC)
    return f"photo {path.name} x{scale}", path.read_bytes() if scale == 1.0 else jpeg(img, 85)


def peer(index: int) -> tuple[str, bytes]:
    """Another install's result: a valid mark and metadata of a job this install never recorded."""
    job = f"peer-job-{index}"
    img = wm.embed(picture(4000 + index, SIZES[index % 2]), wm.payload_for(job))
    xmp = xmp_packet(kind=JobKind.IMAGE, producer="Reelsmith", job_id=job, model="m")
    if index % 3 == 0:
        return f"peer {job} png+xmp", encode_png(img, xmp)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=75)  # recompressed by a platform: metadata gone
    return f"peer {job} jpeg", buf.getvalue()


def video(index: int) -> tuple[str, bytes]:
    """Grey, gradient and noise clips; every third one with another install's tags."""
    rs = np.random.RandomState(5000 + index)
    w, h = (256, 256) if index % 2 else (320, 240)
    if index % 3 == 0:
        frames = [Image.new("RGB", (w, h), (128, 128, 128))] * 6
    elif index % 3 == 1:
        frames = [Image.fromarray((rs.rand(h, w, 3) * 255).astype(np.uint8)) for _ in range(6)]
    else:
        base = picture(6000 + index, (w, h))
        frames = [base.rotate(i) for i in range(6)]
    tags = mp4_metadata(kind=JobKind.VIDEO, producer="Reelsmith", job_id=f"peer-clip-{index}", model="m",
                        label_text="AI-generated") if index % 2 == 0 else None
    return f"clip {index} {w}x{h}", encode_mp4(frames, fps=8, metadata=tags, crf=23)


KINDS = (flat, gradient, noise, smooth, photo, peer, video)


def inputs(per_kind: int) -> Iterator[tuple[str, bytes]]:
    """`per_kind` files of each kind (deterministic)."""
    for i in range(per_kind):
        for kind in KINDS:
            yield kind(i)
