"""/verify claims an origin only for a valid mark or metadata naming a job on record (real Redis)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from core.labelling import watermark as wm
from core.labelling.metadata import xmp_packet
from core.labelling.provenance import ProvenanceRegistry
from core.labelling.verify import answer, verify_in_process
from core.media.codecs import encode_mp4, encode_png
from core.queue.connection import connect
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, Requester
from tests.labelling.images import crop_sides, half, jpeg, picture, screenshot
from tests.labelling.unmarked import inputs


@pytest.fixture
async def registry(settings: Settings) -> AsyncIterator[ProvenanceRegistry]:
    redis = await connect(settings)
    yield ProvenanceRegistry(redis, settings)
    await redis.aclose()


async def _recorded(registry: ProvenanceRegistry, prompt: str = "a boat") -> str:
    who = Requester(platform="web", user_id="u1", chat_id="c1")
    request = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt=prompt, width=256, height=256, seed=1,
                                steps=1)
    reply = GenerationReply(job_id=request.job_id, requester=who, kind=request.kind, prompt=prompt, seed=1,
                            model="tiny")
    await registry.record(request, reply)
    return request.job_id


def _marked(job_id: str, seed: int = 1) -> Image.Image:
    return wm.embed(picture(seed, (512, 512)), wm.payload_for(job_id))


async def test_a_recorded_result_is_found_with_its_job(registry: ProvenanceRegistry, settings: Settings) -> None:
    job = await _recorded(registry)
    for data in (encode_png(_marked(job)), jpeg(half(_marked(job)), 75)):
        verdict = await verify_in_process(data, settings, registry)
        assert verdict.has_watermark and verdict.job_id == job and verdict.record is not None
        text = answer(verdict, settings, moderator=True)
        assert text.startswith("\u2705") and "invisible watermark" in text and f"job {job}" in text


@pytest.mark.parametrize("colour", [(0, 0, 0), (128, 128, 128), (255, 255, 255), (64, 64, 64)])
async def test_flat_pictures_are_not_recognised(colour: tuple[int, int, int], registry: ProvenanceRegistry,
                                                settings: Settings) -> None:
    await _recorded(registry)
    verdict = await verify_in_process(encode_png(Image.new("RGB", (512, 512), colour)), settings, registry)
    assert not verdict.labelled and not verdict.has_watermark
    assert answer(verdict, settings, moderator=True).startswith("\u274c This image is not recognised")


async def test_a_grey_video_is_not_recognised(registry: ProvenanceRegistry, settings: Settings) -> None:
    data = encode_mp4([Image.new("RGB", (320, 320), (128, 128, 128))] * 9, fps=8)
    verdict = await verify_in_process(data, settings, registry)
    assert not verdict.labelled
    assert answer(verdict, settings, moderator=False).startswith("\u274c This video is not recognised")


async def test_another_installs_result_is_not_vouched_for(registry: ProvenanceRegistry, settings: Settings) -> None:
    job = "job-of-another-install"  # validly marked, but not on record here
    xmp = xmp_packet(kind=JobKind.IMAGE, producer=settings.service_name, job_id=job, model="m")
    verdict = await verify_in_process(encode_png(_marked(job), xmp), settings, registry)
    assert verdict.watermark is not None and verdict.watermark.valid  # the mark reads ...
    assert verdict.metadata_claims_us and not verdict.labelled  # ... but no record confirms it
    text = answer(verdict, settings, moderator=True)
    assert text.startswith("\u274c") and f"(job {job})" in text and "could not be confirmed" in text


async def test_metadata_naming_a_recorded_job_is_confirmed(registry: ProvenanceRegistry,
                                                           settings: Settings) -> None:
    job = await _recorded(registry)
    xmp = xmp_packet(kind=JobKind.IMAGE, producer=settings.service_name, job_id=job, model="m")
    buf = io.BytesIO()
    picture(8, (320, 240)).save(buf, format="JPEG", xmp=xmp)  # metadata copied onto an unmarked file
    verdict = await verify_in_process(buf.getvalue(), settings, registry)
    assert verdict.has_metadata and not verdict.has_watermark and verdict.job_id == job
    assert "treat this as a claim" in answer(verdict, settings, moderator=False)


async def test_no_unmarked_input_is_claimed(registry: ProvenanceRegistry, settings: Settings) -> None:
    """A deterministic subset of bench/verify_fp.py's inputs (42 files): zero claimed origins."""
    for _ in range(3):
        await _recorded(registry)
    claimed: list[Any] = []
    for name, data in inputs(per_kind=6):
        verdict = await verify_in_process(data, settings, registry)
        if verdict.labelled or answer(verdict, settings, moderator=True).startswith("\u2705"):
            claimed.append(name)
    assert claimed == []


@pytest.mark.parametrize("turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270,
                                  Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.TRANSPOSE],
                         ids=["90", "180", "270", "mirror", "transpose"])
async def test_a_turned_or_mirrored_result_is_still_found(turn: Image.Transpose, registry: ProvenanceRegistry,
                                                          settings: Settings) -> None:
    job = await _recorded(registry)
    verdict = await verify_in_process(encode_png(_marked(job).transpose(turn)), settings, registry)
    assert verdict.has_watermark and verdict.job_id == job and verdict.record is not None


@pytest.mark.labelling_settings(image_base_size=512)
@pytest.mark.parametrize("attack", ["crop", "crop turned", "screenshot", "screenshot enlarged", "half jpeg q60"])
async def test_a_cropped_screenshotted_or_shrunk_result_is_still_found(attack: str, registry: ProvenanceRegistry,
                                                                      settings: Settings) -> None:
    job = await _recorded(registry)
    marked = _marked(job, seed=3)
    data = {
        "crop": lambda: encode_png(crop_sides(marked, 0.05)),  # 5% cut from every side: the grid and tile shift
        "crop turned": lambda: jpeg(crop_sides(marked, 0.07).transpose(Image.Transpose.ROTATE_90), 75),
        "screenshot": lambda: encode_png(screenshot(marked, 0.8)),  # on an app's background, shown at 0.8x
        "screenshot enlarged": lambda: jpeg(screenshot(marked, 1.3), 85),
        "half jpeg q60": lambda: jpeg(half(marked), 60),  # not scaled back: /verify does that
    }[attack]()
    verdict = await verify_in_process(data, settings, registry)
    assert verdict.has_watermark and verdict.job_id == job and verdict.record is not None
    assert answer(verdict, settings, moderator=True).startswith("\u2705")


async def test_an_unmarked_screenshot_or_crop_is_not_recognised(registry: ProvenanceRegistry,
                                                                settings: Settings) -> None:
    await _recorded(registry)
    for data in (encode_png(screenshot(picture(30, (512, 512)), 0.8)), jpeg(crop_sides(picture(31, (512, 512))), 60)):
        verdict = await verify_in_process(data, settings, registry)
        assert not verdict.labelled and not verdict.has_watermark
        assert answer(verdict, settings, moderator=True).startswith("\u274c This image is not recognised")
