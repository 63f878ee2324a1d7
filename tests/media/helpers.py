"""Small media files made in memory for the media tests."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from aiohttp.test_utils import TestClient
from PIL import Image

from core.media.codecs import encode_mp4


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def gif(frames: int = 4, size: tuple[int, int] = (96, 96)) -> bytes:
    imgs = [Image.new("RGB", size, (40 * i, 90, 160)) for i in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=100, loop=0)
    return buf.getvalue()


def mp4(frames: int = 12, size: tuple[int, int] = (64, 64), fps: int = 24) -> bytes:
    return encode_mp4([Image.new("RGB", size, (10 * i, 100, 200 - 10 * i)) for i in range(frames)], fps)


def wav(seconds: float, rate: int = 22050) -> bytes:
    t = np.arange(int(rate * seconds))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(t * 0.05) * 10000).astype("<i2").tobytes())
    return buf.getvalue()


async def result_bytes(client: TestClient[Any, Any], msg: dict[str, Any]) -> tuple[bytes, str]:
    assert not msg.get("error"), msg["text"]
    [media] = msg["media"]
    resp = await client.get(media["url"])
    assert resp.status == 200
    return await resp.read(), media["mime"]

