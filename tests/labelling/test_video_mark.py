"""The video mark: a static luma pattern that survives re-encodes, downscales, a 360p transcode and trims."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import torch
from PIL import Image

from core.labelling import payload as codeword
from core.labelling import video_mark as vm
from core.labelling import watermark as wm
from core.labelling.steps import watermark_step
from core.labelling.verify import read_video_mark
from core.media.codecs import encode_mp4
from core.settings import Settings
from core.types import GenerationRequest, JobKind, Requester
from tests.labelling.images import picture

SIZE = (768, 432)  # the default video size: 360p is a downscale, as Telegram makes it
FPS = 8


def _clip(seed: int, frames: int = 17) -> list[Image.Image]:
    """A smooth picture panning sideways, as a generated clip moves."""
    base = np.asarray(picture(seed, (SIZE[0] + 2 * frames, SIZE[1])))
    return [Image.fromarray(np.ascontiguousarray(base[:, 2 * k:2 * k + SIZE[0]])) for k in range(frames)]


def _request(job: str = "video-mark") -> GenerationRequest:
    return GenerationRequest(requester=Requester(platform="p", user_id="u", chat_id="c"), kind=JobKind.VIDEO,
                             prompt=job, width=SIZE[0], height=SIZE[1], seed=1, steps=1, num_frames=17, fps=FPS)


def _decoded(data: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(data), format="mp4") as container:
        return [f.to_image() for f in container.decode(video=0)]


def _sample(frames: list[Image.Image], count: int = 12) -> list[Image.Image]:
    return [frames[i * len(frames) // count] for i in range(count)] if len(frames) > count else frames


def test_pillow_pass_equals_the_numpy_reference_and_torch_twin() -> None:
    rs = np.random.RandomState(4)
    arr = rs.randint(10, 246, (SIZE[1], SIZE[0], 3)).astype(np.uint8)
    arr[:40] = 0  # clipping at both ends
    arr[40:80] = 255
    payload = wm.payload_for("twins")
    by_pillow = np.asarray(vm.embed_clip([Image.fromarray(arr)], payload)[0])
    by_numpy = vm.embed_array(arr, payload)
    by_torch = vm.embed_tensor(torch.from_numpy(arr.copy())[None], payload)[0].numpy()
    assert np.array_equal(by_pillow, by_numpy) and np.array_equal(by_torch, by_numpy)
    assert not np.array_equal(by_numpy, arr)
    change = (by_numpy.astype(int) - arr.astype(int))[80:]  # where nothing clipped
    assert np.array_equal(change[..., 0], change[..., 1]) and np.array_equal(change[..., 1], change[..., 2])


def test_the_pattern_is_the_codeword_and_small_frames_are_left_alone() -> None:
    payload = wm.payload_for("bits")
    clip = vm.embed_clip([picture(5, SIZE)], payload)
    got = vm.decode_at(clip, SIZE)
    assert wm.matches(got, payload)
    small = picture(6, (200, 200))
    assert vm.embed_clip([small], payload)[0] is small
    assert vm.decode_at([small], small.size) is None


def test_a_flat_clip_never_reads_valid() -> None:
    # Every vote at exactly 0.5: the soft decoder's cost limit is 0 and any codeword would pass without the guard.
    flat = [Image.new("RGB", SIZE, (128, 128, 128))] * 3
    got = vm.decode_at(flat, SIZE)
    assert got is not None and not got.valid and got.confidence == 0.0
    ties = np.full(codeword.CODE_BITS, 0.5)
    assert not vm._reading(ties, SIZE).valid


@pytest.mark.parametrize("attack", ["crf28", "half-crf28", "360p", "trim-1s"])
def test_a_worker_marked_clip_survives(attack: str) -> None:
    request = _request()
    payload = wm.payload_for(request.job_id)
    settings = Settings(_env_file=None, video_base_size=SIZE[0])
    marked = watermark_step(settings)(request, _clip(11))
    frames = _decoded(encode_mp4(marked, FPS))  # what the worker sends (CRF 20)
    w, h = SIZE
    if attack == "crf28":
        data = encode_mp4(frames, FPS, crf=28)
    elif attack == "half-crf28":
        data = encode_mp4([f.resize((w // 2, h // 2), Image.Resampling.BICUBIC) for f in frames], FPS, crf=28)
    elif attack == "360p":
        data = encode_mp4([f.resize((640, 360), Image.Resampling.BICUBIC) for f in frames], FPS, crf=26)
    else:
        data = encode_mp4(frames[FPS:], FPS, crf=23)
    got = read_video_mark(_sample(_decoded(data)), settings)
    assert wm.matches(got, payload)


def test_the_same_clip_unmarked_reads_nothing() -> None:
    settings = Settings(_env_file=None, video_base_size=SIZE[0])
    got = read_video_mark(_sample(_decoded(encode_mp4(_clip(11), FPS, crf=28))), settings)
    assert got is not None and not got.valid


def test_the_step_marks_videos_with_the_pattern_and_images_as_before() -> None:
    settings = Settings(_env_file=None)
    step = watermark_step(settings)
    video = _request("kinds")
    frame = picture(7, SIZE)
    assert np.array_equal(np.asarray(step(video, [frame])[0]),
                          vm.embed_array(np.asarray(frame), wm.payload_for(video.job_id)))
    image = GenerationRequest(requester=video.requester, kind=JobKind.IMAGE, prompt="p", width=SIZE[0],
                              height=SIZE[1], seed=1, steps=1)
    assert np.array_equal(np.asarray(step(image, [frame])[0]),
                          np.asarray(wm.embed(frame, wm.payload_for(image.job_id), wm.WatermarkParams())))
