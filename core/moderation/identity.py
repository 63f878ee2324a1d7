"""Whose face is it: dlib's HOG face detector and its 128-d ResNet face embeddings, offline.

The models ship in `face-recognition-models` (dlib's own files); `dlib-bin` runs them. They load once per
process, on first use. Everything here is blocking CPU work: call it through `asyncio.to_thread`.

The HOG detector finds faces within about 30 degrees of upright and from about 40 px (80 px after its own
2x upsampling), so a picture is searched twice: turned by 0/90/180/270 degrees on a copy where a face of
COARSE_FRACTION of the short side is 40 px, and upright on a copy where a face of `min_fraction` is.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SAME_PERSON = 0.6  # dlib's threshold: embeddings of one person are closer than this
MIN_DETECTABLE_PX = 40  # the HOG detector's 80 px window after one 2x upsampling
MAX_UPSCALE = 4.0  # beyond this a tiny picture's "faces" are a few pixels of noise
MIN_FACE_FRACTION = 0.05
COARSE_FRACTION = 0.125  # faces this big are looked for in every quarter turn

_lock = threading.Lock()  # dlib's models are not documented as thread-safe: one caller at a time


@dataclass(frozen=True)
class Face:
    """A face found in a picture: where (in the picture's own pixels) and its embedding."""

    box: tuple[int, int, int, int]  # left, top, right, bottom in the upright picture it was found in
    rotation: int  # degrees the picture was turned (counter-clockwise) for the face to be upright
    embedding: tuple[float, ...]


def _model_file(name: str) -> str:
    # Found without importing face_recognition_models: its __init__ needs pkg_resources (setuptools).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed (pip install face-recognition-models)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"face model file missing: {path}")
    return str(path)


@lru_cache(maxsize=1)
def _models() -> tuple[Any, Any, Any]:
    import dlib  # type: ignore[import-untyped]  # imported here: only processes that check faces load it

    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(_model_file("shape_predictor_5_face_landmarks.dat")),
            dlib.face_recognition_model_v1(_model_file("dlib_face_recognition_resnet_model_v1.dat")))


def _scaled(image: Image.Image, min_fraction: float) -> np.ndarray:
    """The picture scaled so that a face of `min_fraction` of its short side is just detectable."""
    short = min(image.size)
    scale = min(MAX_UPSCALE, MIN_DETECTABLE_PX / (min_fraction * short))
    img = image
    if abs(scale - 1) > 0.05:
        img = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                           Image.Resampling.BILINEAR)
    return np.asarray(img)


def _upright_center(x: float, y: float, quarter: int, w: int, h: int) -> tuple[float, float]:
    """A point of `np.rot90(pixels, quarter)` in the unturned pixels (w x h)."""
    if quarter == 1:
        return w - 1 - y, x
    if quarter == 2:
        return w - 1 - x, h - 1 - y
    if quarter == 3:
        return y, h - 1 - x
    return x, y


@dataclass(frozen=True)
class _Hit:
    center: tuple[float, float]  # as fractions of the picture's width and height
    size: float  # as a fraction of the short side
    score: float
    face: Face


def _hits(pixels: np.ndarray, quarters: tuple[int, ...]) -> list[_Hit]:
    detector, landmarks, encoder = _models()
    h, w = pixels.shape[:2]
    out = []
    for quarter in quarters:
        turned = np.ascontiguousarray(np.rot90(pixels, quarter))
        rects, scores, _ = detector.run(turned, 1, 0.0)
        for rect, score in zip(rects, scores, strict=True):
            if not _confirmed(turned, rect):
                continue
            cx, cy = _upright_center((rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2,
                                     quarter, w, h)
            vector = encoder.compute_face_descriptor(turned, landmarks(turned, rect))
            face = Face((rect.left(), rect.top(), rect.right(), rect.bottom()), 90 * quarter,
                        tuple(float(v) for v in vector))
            out.append(_Hit((cx / w, cy / h), rect.width() / min(w, h), float(score), face))
    return out


def _confirmed(turned: np.ndarray, rect: Any) -> bool:
    """Whether OpenCV's frontal Haar cascade also sees a face where dlib found one, in the same orientation.

    dlib's HOG detector alone fires on about one in thirty pictures of colour noise (the tiny models' output,
    and texture in real pictures), which would refuse results as "showing a face"; the two detectors rarely
    err on the same spot, and on the shipped faces (turned and small ones too) the cascade agrees.
    """
    import cv2

    from core.moderation.faces import confirm_cascade

    h, w = turned.shape[:2]
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    margin = int(0.35 * (right - left))
    crop = turned[max(0, top - margin):min(h, bottom + margin), max(0, left - margin):min(w, right + margin)]
    if crop.size == 0:
        return False
    gray = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY))
    return confirm_cascade(gray, max(12, int((right - left) * 0.6)))


def _distinct(hits: list[_Hit]) -> list[Face]:
    """One face per place: the detector often fires twice on one face (two scales, a turned copy)."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda x: -x.score):
        if not any(abs(hit.center[0] - k.center[0]) + abs(hit.center[1] - k.center[1]) < max(hit.size, k.size)
                   for k in kept):
            kept.append(hit)
    return [k.face for k in kept]


def find_faces(image: Image.Image, min_fraction: float = MIN_FACE_FRACTION) -> list[Face]:
    """Every face in the picture: from COARSE_FRACTION of the short side up in any quarter turn, and from
    `min_fraction` up when upright (a fine search of every turn would cost four times as much)."""
    rgb = image.convert("RGB")
    with _lock:
        hits = _hits(_scaled(rgb, COARSE_FRACTION), (0, 1, 2, 3))
        if min_fraction < COARSE_FRACTION:
            hits += _hits(_scaled(rgb, min_fraction), (0,))
    return _distinct(hits)


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Euclidean distance between two embeddings: under SAME_PERSON means one person."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def matches(face: Sequence[float], known: Sequence[Sequence[float]],
            threshold: float = SAME_PERSON) -> int | None:
    """The index of the closest known embedding within the threshold, or None."""
    best, best_d = None, threshold
    for i, other in enumerate(known):
        d = distance(face, other)
        if d < best_d:
            best, best_d = i, d
    return best
