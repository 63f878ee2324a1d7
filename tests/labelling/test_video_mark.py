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
from core.labelling.steps import badge_step, clip_mark_step, labelling_feature, watermark_step
from core.labelling.verify import read_video_mark
from core.media.codecs import X264_DEFAULTS, _limited_levels, encode_mp4, to_yuv420
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


def _theirs(frames: list[Image.Image], crf: int) -> bytes:
    """A re-encode by someone else's encoder: x264's defaults, not the worker's settings."""
    return encode_mp4(frames, FPS, crf=crf, x264_params=X264_DEFAULTS)


@pytest.mark.parametrize("attack", ["crf28", "half-crf28", "360p", "trim-1s"])
def test_a_worker_marked_clip_survives(attack: str) -> None:
    request = _request()
    payload = wm.payload_for(request.job_id)
    settings = Settings(_env_file=None, video_base_size=SIZE[0])
    marked = watermark_step(settings)(request, _clip(11))
    frames = _decoded(encode_mp4(marked, FPS))  # what the worker sends (CRF 20)
    w, h = SIZE
    if attack == "crf28":
        data = _theirs(frames, 28)
    elif attack == "half-crf28":
        data = _theirs([f.resize((w // 2, h // 2), Image.Resampling.BICUBIC) for f in frames], 28)
    elif attack == "360p":
        data = _theirs([f.resize((640, 360), Image.Resampling.BICUBIC) for f in frames], 26)
    else:
        data = _theirs(frames[FPS:], 23)
    got = read_video_mark(_sample(_decoded(data)), settings)
    assert wm.matches(got, payload)


def test_the_same_clip_unmarked_reads_nothing() -> None:
    settings = Settings(_env_file=None, video_base_size=SIZE[0])
    got = read_video_mark(_sample(_decoded(_theirs(_clip(11), 28))), settings)
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


def _saturating_frame() -> Image.Image:
    rs = np.random.RandomState(6)
    arr = rs.randint(10, 246, (SIZE[1], SIZE[0], 3)).astype(np.uint8)
    arr[:40] = 0  # video black and white: both paths must saturate alike
    arr[40:80] = 255
    return Image.fromarray(arr)


@pytest.mark.parametrize("frame", [picture(3, SIZE), _saturating_frame()], ids=["picture", "saturating"])
def test_the_y_plane_mark_equals_the_rgb_mark_within_rounding(frame: Image.Image) -> None:
    payload = wm.payload_for("y-plane")
    change = vm.luma_change(frame.size, payload)
    assert change is not None
    by_rgb = to_yuv420(vm.embed_clip([frame], payload)[0]).to_ndarray().astype(int)
    by_y = to_yuv420(frame, _limited_levels(change)).to_ndarray().astype(int)
    plain = to_yuv420(frame).to_ndarray().astype(int)
    h = SIZE[1]
    assert np.abs(by_y - by_rgb).max() <= 1  # the encoder's input: Y within rounding, U and V too
    assert np.array_equal(by_y[h:], plain[h:])  # the Y path leaves chroma exactly as it was
    assert np.abs(by_y[:h] - plain[:h]).max() >= 3  # and it did change luma


def test_an_mp4_marked_in_its_y_plane_reads_like_one_marked_in_rgb() -> None:
    request = _request("y-plane-mp4")
    payload = wm.payload_for(request.job_id)
    frames = _clip(13, 9)
    change = clip_mark_step(Settings(_env_file=None)).change(request, SIZE)
    by_y = _decoded(encode_mp4(frames, FPS, luma_change=change))
    by_rgb = _decoded(encode_mp4(watermark_step(Settings(_env_file=None))(request, frames), FPS))
    got_y, got_rgb = vm.decode_clip(by_y), vm.decode_clip(by_rgb)
    assert got_y is not None and got_rgb is not None
    assert wm.matches(got_y, payload) and wm.matches(got_rgb, payload)
    assert (got_y.payload, got_y.valid) == (got_rgb.payload, got_rgb.valid)
    assert got_y.confidence >= 0.9 * got_rgb.confidence  # no weaker (x264 keeps its exact integer change better)


def test_the_mp4_mark_skips_an_extended_clips_source_part() -> None:
    request = _request("y-plane-head")
    payload = wm.payload_for(request.job_id)
    frames = _clip(14, 10)
    change = vm.luma_change(SIZE, payload)
    decoded = _decoded(encode_mp4(frames, FPS, luma_change=change, luma_from=5))
    head, new = vm.decode_clip(decoded[:5]), vm.decode_clip(decoded[5:])
    assert head is not None and not head.valid  # the source part (already labelled) gets no second mark
    assert wm.matches(new, payload)


def test_the_feature_marks_videos_in_the_encoder_and_only_there() -> None:
    settings = Settings(_env_file=None)
    feature = labelling_feature(settings, None)
    request = _request("feature")
    frames = _clip(15, 3)
    stepped = frames
    for step in feature.frame_steps:
        stepped = step(request, stepped)
    badged = badge_step(settings)(request, frames)
    # The frame steps leave the mark to the encoder (else it would go on twice) ...
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(stepped, badged, strict=True))
    (mark,) = feature.clip_marks
    # ... which gets it as a Y-plane change (MP4) or, for any other format, as the RGB pass itself.
    change = mark.change(request, SIZE)
    assert change is not None and np.array_equal(change, vm.pattern(SIZE, wm.payload_for(request.job_id)))
    for got, want in zip(mark.apply(request, badged), watermark_step(settings)(request, badged), strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))
    assert mark.change(request, (200, 200)) is None  # too small to carry a mark
    assert labelling_feature(Settings(_env_file=None, watermark_enabled=False), None).clip_marks == ()
