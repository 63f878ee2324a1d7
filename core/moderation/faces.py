"""Offline face detection with the Haar cascades bundled in opencv-python-headless 4.x: the second opinion on
faces dlib finds (`core.moderation.identity`), and the benches' baseline.

Blocking CPU work: call `count_faces` through `asyncio.to_thread`. Images are downscaled to a fixed
long side first, so a huge upload costs the same as a small one.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

MAX_SIDE = 480
MIN_FACE_FRACTION = 0.08  # faces smaller than this share of the short side are background people

_lock = threading.Lock()  # CascadeClassifier instances are not safe to share between threads


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"could not load the face cascade from {path}")
    return cascade


def count_faces(image: Image.Image) -> int:
    """How many frontal faces the image shows."""
    img = image.convert("RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    gray = cv2.equalizeHist(cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2GRAY))
    min_side = max(20, int(min(gray.shape) * MIN_FACE_FRACTION))
    with _lock:
        faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(min_side, min_side))
    return len(faces)


def confirm_cascade(gray: np.ndarray, min_side: int) -> bool:
    """Whether the cascade finds a frontal face of at least `min_side` px in a (small, equalised) grey crop:
    the second opinion on a face another detector found there (`core.moderation.identity`)."""
    with _lock:
        faces = _cascade().detectMultiScale(gray, scaleFactor=1.05, minNeighbors=3, minSize=(min_side, min_side))
    return len(faces) > 0
