"""End to end per image family: a catalog whose only image model is that family's tiny twin; /imagine, /edit
and concurrent /imagine jobs (sharing a pipeline call) through the playground and a real worker come back as
labelled images whose caption names the model."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.generation.pipeline import PipelineSet
from core.generation.twins import build_twin, twins
from core.labelling.metadata import COMPOSITE_SOURCE_TYPE, DIGITAL_SOURCE_TYPE
from core.models import FAMILIES, Task
from core.models.catalog import catalog_for
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind
from tests.conftest import running_worker, wait_for
from tests.media.helpers import png, result_bytes
from tests.playground import finished, send

IMAGE_TWINS = sorted(name for name, spec in twins().items()
                     if not FAMILIES[spec.family].is_video and spec.family != "sd"  # sd: the default set's
                     and Task.TEXT_TO_IMAGE in FAMILIES[spec.family].tasks)  # the upscaler: test_upscale.py


@pytest.fixture(scope="module")
def family_pipelines(tmp_path_factory: pytest.TempPathFactory, tiny_dir: Path) -> dict[str, PipelineSet]:
    """One warm PipelineSet per twin, loaded on first use and shared by the module's tests."""
    root = tmp_path_factory.mktemp("image-family-twins")
    return {name: PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir,
                                       image_model=str(build_twin(root, name)))) for name in IMAGE_TWINS}


@pytest.fixture(params=IMAGE_TWINS)
async def family_worker(request: pytest.FixtureRequest, settings: Settings,
                        family_pipelines: dict[str, PipelineSet]) -> AsyncIterator[tuple[str, Any]]:
    """A worker whose only image model is one family's twin (and the catalog says so)."""
    name: str = request.param
    pipelines = family_pipelines[name]
    settings.image_model = pipelines.settings.image_model
    settings.image_base_size = 32  # a configured model switches the defaults to production sizes
    settings.batch_window_s = 0.5
    [entry] = catalog_for(settings).serving(Task.TEXT_TO_IMAGE)
    assert (entry.name, entry.family, entry.kind) == (name, twins()[name].family, twins()[name].kind)
    async with running_worker(settings, pipelines) as w:
        yield name, w


async def _labelled_image(client: TestClient[Any, Any], chat: str, job_id: str, model: str,
                          source: str = DIGITAL_SOURCE_TYPE) -> Image.Image:
    msg = await finished(client, chat, job_id)
    assert model in msg["text"], msg["text"]  # the caption names the model that made it
    data, mime = await result_bytes(client, msg)
    image = Image.open(io.BytesIO(data))
    assert mime == "image/png" and source in image.info.get("XML:com.adobe.xmp", "")
    return image


async def test_imagine_and_edit(web_client: TestClient[Any, Any], family_worker: tuple[str, Any]) -> None:
    model, _ = family_worker
    sent = await send(web_client, f"im-{model}", "/imagine a lighthouse at dusk --no fog --steps 1 --seed 3")
    assert sent["ok"], sent["message"]["text"]
    assert (await _labelled_image(web_client, f"im-{model}", sent["job_id"], model)).size == (32, 32)
    sent = await send(web_client, f"ed-{model}", "/edit make it night --steps 2", [("a.png", png(size=(48, 32)))])
    assert sent["ok"], sent["message"]["text"]
    edited = await _labelled_image(web_client, f"ed-{model}", sent["job_id"], model, COMPOSITE_SOURCE_TYPE)
    assert max(edited.size) == 32  # at the model's size, whatever the picture's


async def test_concurrent_jobs_share_a_call(web_client: TestClient[Any, Any],
                                            family_worker: tuple[str, Any]) -> None:
    model, worker = family_worker
    chats = [f"b{i}-{model}" for i in range(3)]
    sent = await asyncio.gather(*(send(web_client, chat, f"/imagine fox {i} --steps 1 --seed {i}")
                                  for i, chat in enumerate(chats)))
    assert all(s["ok"] for s in sent), [s["message"]["text"] for s in sent]
    for chat, s in zip(chats, sent, strict=True):
        await _labelled_image(web_client, chat, s["job_id"], model)
    runtime = await wait_for(lambda: _get(worker.ctx, "runtime"))
    assert sum(runtime.batcher.batches) == 3 and max(runtime.batcher.batches) > 1, runtime.batcher.batches


async def _get(d: dict[str, Any], key: str) -> Any:
    return d.get(key)


async def test_inpaint_with_a_mask(web_client: TestClient[Any, Any], service: Reelsmith,
                                   family_worker: tuple[str, Any]) -> None:
    """Every image family claims inpaint (Zoom, Pan, Vary (Region)): /edit with a black and white mask repaints
    its white through the family's inpaint pipeline, on the worker."""
    model, _ = family_worker
    if Task.INPAINT not in FAMILIES[twins()[model].family].checkpoint(twins()[model].kind).tasks:
        pytest.skip(f"{model}'s checkpoint kind claims no inpaint")
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (16, 0, 32, 32))
    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    sent = await send(web_client, f"in-{model}", "/edit a red door --steps 2",
                      [("photo.png", png(size=(32, 32))), ("mask.png", buf.getvalue())])
    assert sent["ok"], sent["message"]["text"]
    image = await _labelled_image(web_client, f"in-{model}", sent["job_id"], model, COMPOSITE_SOURCE_TYPE)
    assert image.size == (32, 32)
    request = await service.queue.load_request(sent["job_id"])
    assert request is not None and request.kind == JobKind.INPAINT and request.model == model
