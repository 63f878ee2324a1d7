"""/upscale: the tiny x4 upscaler twin through `from_pretrained`, the fallback through the image model, tiles."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.generation.pipeline import GenerationCancelled, Job, PipelineSet
from core.generation.twins import build_twin
from core.generation.upscale import feather, tile_boxes
from core.labelling.metadata import COMPOSITE_SOURCE_TYPE
from core.queue.connection import connect
from core.quotas.book import QuotaBook
from core.settings import Settings
from core.types import GenerationRequest, JobKind, Requester
from tests.conftest import running_worker
from tests.media.helpers import png, result_bytes
from tests.playground import finished, send

WHO = Requester(platform="web", user_id="u", chat_id="c")


@pytest.fixture(scope="module")
def upscaler_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_twin(tmp_path_factory.mktemp("twins"), "sd-x4-upscaler")


@pytest.fixture(scope="module")
def upscaler_pipes(upscaler_dir: Path, tiny_dir: Path) -> PipelineSet:
    """A pipeline set whose upscale slot is the tiny x4 twin (loaded once for the module)."""
    return PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, upscale_model=str(upscaler_dir)))


def _request(width: int, height: int, **extra: Any) -> GenerationRequest:
    return GenerationRequest(requester=WHO, kind=JobKind.UPSCALE, prompt="sharp", width=width, height=height,
                             seed=3, steps=2, **extra)


def test_twin_loads_and_upscales_16_to_64(upscaler_pipes: PipelineSet) -> None:
    pipe = upscaler_pipes.get(JobKind.UPSCALE)
    assert type(pipe).__name__ == "StableDiffusionUpscalePipeline" and pipe.unet.config.in_channels == 7
    steps: list[tuple[int, int]] = []
    [result] = upscaler_pipes.render([Job(_request(64, 64), [Image.new("RGB", (16, 16), (9, 99, 199))],
                                          progress=lambda s, t: steps.append((s, t)))])
    assert result.frames[0].size == (64, 64) and result.model == "sd-x4-upscaler"
    assert steps == [(1, 2), (2, 2)]


def test_x4_model_resized_to_the_asked_2x(upscaler_pipes: PipelineSet) -> None:
    [result] = upscaler_pipes.render([Job(_request(48, 32), [Image.new("RGB", (24, 16), (9, 99, 199))])])
    assert result.frames[0].size == (48, 32)  # the 96x64 x4 output, resized with Lanczos


def test_upscale_stops_between_steps(upscaler_pipes: PipelineSet) -> None:
    job = Job(_request(64, 64), [Image.new("RGB", (16, 16))], should_stop=lambda: True)
    with pytest.raises(GenerationCancelled):
        upscaler_pipes.render([job])


def test_fallback_without_an_upscale_model_returns_2x(pipelines: PipelineSet) -> None:
    assert not pipelines.settings.upscale_model
    assert type(pipelines.get(JobKind.UPSCALE)).__name__ == "StableDiffusionImg2ImgPipeline"
    source = Image.new("RGB", (32, 24), (200, 30, 30))
    [result] = pipelines.render([Job(_request(64, 48), [source])])
    assert result.frames[0].size == (64, 48) and result.model == "reelsmith-tiny-image"


def test_fallback_refines_large_images_in_tiles(pipelines: PipelineSet) -> None:
    steps: list[tuple[int, int]] = []
    [result] = pipelines.render([Job(_request(128, 64), [Image.new("RGB", (64, 32), (20, 130, 30))],
                                     progress=lambda s, t: steps.append((s, t)))])
    assert result.frames[0].size == (128, 64)
    assert len(tile_boxes((128, 64), 64)) == 3 and steps[-1] == (3, 3)  # one refined step per tile


def test_tiles_cover_the_image_and_overlap() -> None:
    assert tile_boxes((64, 48), 64) == [(0, 0, 64, 48)]
    boxes = tile_boxes((200, 100), 64)
    covered = np.zeros((100, 200), dtype=int)
    for left, top, right, bottom in boxes:
        assert (right - left, bottom - top) == (64, 64)
        covered[top:bottom, left:right] += 1
    assert covered.min() >= 1
    xs = sorted({b[0] for b in boxes})
    assert all(b - a <= 64 - 8 for a, b in zip(xs, xs[1:], strict=False))  # neighbours overlap >= 8 px
    weights = feather(8, 4)
    assert weights.shape == (4, 8, 1) and weights.min() > 0 and weights[2, 4, 0] > weights[0, 0, 0]


# ---- end to end through the playground and a real worker ----------------------------------------------


@pytest.fixture
async def upscale_worker(settings: Settings, upscaler_dir: Path, upscaler_pipes: PipelineSet) -> AsyncIterator[Any]:
    settings.upscale_model = str(upscaler_dir)
    async with running_worker(settings, upscaler_pipes) as w:
        yield w


async def _used(settings: Settings, chat: str) -> int:
    redis = await connect(settings)
    try:
        return (await QuotaBook(redis, settings).usage("web", chat)).used
    finally:
        await redis.aclose()


async def test_upscale_end_to_end_is_labelled(web_client: TestClient[Any, Any], upscale_worker: Any,
                                              settings: Settings) -> None:
    sent = await send(web_client, "up1", "/upscale crisp --scale 4 --seed 5", [("small.png", png(size=(16, 12)))])
    assert sent["ok"], sent["message"]["text"]
    msg = await finished(web_client, "up1", sent["job_id"])
    assert msg["text"].startswith("\U0001f916 AI-generated with Reelsmith") and "sd-x4-upscaler" in msg["text"]
    data, mime = await result_bytes(web_client, msg)
    img = Image.open(io.BytesIO(data))
    assert mime == "image/png" and img.size == (64, 48)
    xmp = img.info.get("XML:com.adobe.xmp", "")
    assert COMPOSITE_SOURCE_TYPE in xmp and sent["job_id"] in xmp  # a member's picture, changed by AI
    assert await _used(settings, "up1") == 1


async def test_upscale_fallback_end_to_end(web_client: TestClient[Any, Any], worker: Any) -> None:
    sent = await send(web_client, "up2", "/upscale", [("small.png", png(size=(32, 16)))])
    assert sent["ok"], sent["message"]["text"]
    data, _ = await result_bytes(web_client, await finished(web_client, "up2", sent["job_id"]))
    assert Image.open(io.BytesIO(data)).size == (64, 32)


@pytest.mark.parametrize(("text", "files", "said"), [
    ("/upscale", [], "/upscale needs an image: attach one"),
    ("/upscale", [png(), png((1, 2, 3))], "takes exactly one image; you attached 2"),
    ("/upscale --scale 3", [png()], "--scale must be 2 or 4"),
    ("/upscale --ar 16:9", [png()], "keeps the image's shape; drop --ar"),
    ("/upscale", [png(size=(200, 200))], "is already 200x200 px; /upscale makes images of at most 256 px"),
])
async def test_bad_upscale_requests_are_answered_and_free(web_client: TestClient[Any, Any], settings: Settings,
                                                          text: str, files: list[bytes], said: str) -> None:
    sent = await send(web_client, "up3", text, [(f"f{i}.png", data) for i, data in enumerate(files)])
    assert not sent["ok"] and said in sent["message"]["text"]
    assert await _used(settings, "up3") == 0


async def test_upscale_of_a_video_is_refused(web_client: TestClient[Any, Any], settings: Settings) -> None:
    from tests.media.helpers import mp4

    sent = await send(web_client, "up4", "/upscale", [("clip.mp4", mp4())])
    assert not sent["ok"] and "videos and audio cannot be upscaled" in sent["message"]["text"]
    assert await _used(settings, "up4") == 0


# ---- the catalog is the source: REELSMITH_UPSCALE_MODEL is shorthand for an entry serving "upscale" -----


def test_upscale_shorthand_is_a_catalog_entry(upscaler_dir: Path, tiny_dir: Path) -> None:
    from core.models import Task
    from core.models.catalog import TINY_IMAGE, catalog_for

    catalog = catalog_for(Settings(_env_file=None, tiny_models_dir=tiny_dir, upscale_model=str(upscaler_dir)))
    entry = catalog.default_for(Task.UPSCALE)
    assert entry is not None and (entry.name, entry.family, entry.kind) == ("sd-x4-upscaler", "sd-upscale", "upscale")
    assert entry.tasks == (Task.UPSCALE,) and catalog.entry(TINY_IMAGE) is not None  # the image model stays
    assert catalog_for(Settings(_env_file=None, tiny_models_dir=tiny_dir)).default_for(Task.UPSCALE) is None


def test_a_models_file_upscale_entry_runs_its_twin(tmp_path: Path, tiny_dir: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "x4"\nsource = "twin:sd-x4-upscaler"\nfamily = "sd-upscale"\n'
                      'title = "Tiny x4"\n')
    pipes = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, models_file=models))
    [result] = pipes.render([Job(_request(64, 64), [Image.new("RGB", (16, 16), (9, 99, 199))])])
    assert result.frames[0].size == (64, 64) and result.model == "Tiny x4"
    assert type(pipes.get(JobKind.UPSCALE)).__name__ == "StableDiffusionUpscalePipeline"
