"""A style with a LoRA end to end: playground -> real Redis -> real arq worker -> the LoRA drew it, then left."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.generation.pipeline import PipelineSet
from core.settings import Settings
from core.types import JobKind
from tests.conftest import running_worker
from tests.playground import finished, send

STYLES = '''
[[style]]
name = "watercolor"
template = "{prompt}, watercolor"
loras = [{ name = "watercolor", weight = 1.0 }]
'''


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "styles.toml"
    path.write_text(STYLES)
    return settings.model_copy(update={"styles_file": path, "quota_enabled": False})


@pytest.fixture
async def lora_worker(settings: Settings, lora_pipelines: PipelineSet) -> AsyncIterator[Any]:
    async with running_worker(settings, lora_pipelines) as w:
        yield w


async def _image(client: TestClient[Any, Any], text: str) -> np.ndarray:
    sent = await send(client, "room", text)
    assert sent["ok"], sent
    msg = await finished(client, "room", sent["job_id"])
    assert not msg["error"], msg["text"]
    data = await (await client.get(msg["media"][0]["url"])).read()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)


async def test_a_style_with_a_lora_through_the_playground(web_client: TestClient[Any, Any], lora_worker: Any,
                                                          lora_pipelines: PipelineSet) -> None:
    listing = await send(web_client, "room", "/styles")
    assert "watercolor - {prompt}, watercolor; LoRA watercolor x1" in listing["message"]["text"]
    # The same prompt the style makes, without the style's LoRA, is the baseline the LoRA must move off.
    plain = await _image(web_client, "/imagine a fox, watercolor --seed 5")
    styled = await _image(web_client, "/imagine a fox --style watercolor --seed 5")
    assert np.abs(styled - plain).mean() > 1.0
    after = await _image(web_client, "/imagine a fox, watercolor --seed 5")
    assert np.array_equal(after, plain)  # nothing of the LoRA leaked into the next job
    assert "watercolor" in lora_pipelines.loras.loaded(lora_pipelines.get(JobKind.IMAGE))
