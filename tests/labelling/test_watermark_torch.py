"""The torch watermark (for frames on a GPU) embeds exactly what the NumPy one does; checked on CPU torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.labelling import watermark as wm
from core.labelling.watermark_torch import embed_tensor
from tests.labelling.images import picture


def _frames() -> list[Image.Image]:
    rs = np.random.RandomState(3)
    return [picture(1, (512, 512)), picture(2, (768, 432)), picture(3, (301, 517)),
            Image.fromarray((rs.rand(320, 320, 3) * 255).astype(np.uint8)), picture(4).rotate(30),
            Image.new("RGB", (300, 260), (255, 255, 255))]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("scale", [48.0, 64.0])
def test_torch_and_numpy_embeddings_agree(index: int, scale: float) -> None:
    img = _frames()[index]
    params = wm.WatermarkParams(scale=scale)
    payload = wm.payload_for(f"torch-{index}")
    by_numpy = np.asarray(wm.embed(img, payload, params))
    by_torch = embed_tensor(torch.from_numpy(np.asarray(img).copy()), payload, params).numpy()
    assert by_torch.dtype == np.uint8 and by_torch.shape == by_numpy.shape
    assert np.abs(by_torch.astype(int) - by_numpy.astype(int)).max() <= 1  # pixelwise, within rounding
    from_numpy, from_torch = wm.decode_at(Image.fromarray(by_numpy), params), wm.decode_at(
        Image.fromarray(by_torch), params)
    assert from_numpy is not None and from_numpy == from_torch  # same payload bits, same confidence
    if index < 5:
        assert wm.matches(from_torch, payload)


def test_torch_batch_of_frames_and_small_frames() -> None:
    frames = [picture(10 + i, (400, 272)) for i in range(3)]
    params = wm.WatermarkParams(scale=64)
    batch = embed_tensor(torch.from_numpy(np.stack([np.asarray(f) for f in frames])), 5, params).numpy()
    for got, frame in zip(batch, frames, strict=True):
        assert np.abs(got.astype(int) - np.asarray(wm.embed(frame, 5, params), dtype=int)).max() <= 1
    small = torch.zeros((64, 64, 3), dtype=torch.uint8)
    assert embed_tensor(small, 5) is small


def test_watermark_step_on_a_torch_device_marks_like_numpy() -> None:
    from core.labelling.steps import watermark_step
    from core.settings import Settings
    from core.types import GenerationRequest, JobKind, Requester

    # Images: a video's mark is the static pattern of video_mark, the same add on any device (test_video_mark.py).
    request = GenerationRequest(requester=Requester(platform="p", user_id="u", chat_id="c"), kind=JobKind.IMAGE,
                                prompt="x", width=320, height=256, seed=1, steps=1)
    frames = [picture(40 + i, (320, 256)) for i in range(3)] + [picture(50, (96, 96))]
    on_torch = watermark_step(Settings(_env_file=None, watermark_device="cpu"))(request, frames)
    on_numpy = watermark_step(Settings(_env_file=None))(request, frames)
    assert on_torch[-1] is frames[-1]
    for a, b in zip(on_torch, on_numpy, strict=True):
        assert np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max() <= 1
    params = wm.WatermarkParams()
    assert wm.decode_frames(on_torch[:3], params=params) == wm.decode_frames(on_numpy[:3], params=params)
    assert wm.matches(wm.decode_frames(on_torch[:3], params=params), wm.payload_for(request.job_id))
