"""A service over a models file of fake checkpoints (JSON only: nothing loads before queueing)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings

MakeService = Callable[..., Awaitable[Reelsmith]]


def checkpoint(root: Path, name: str, cls: str) -> Path:
    """A checkpoint folder with only its model_index.json: enough for the catalog to read family and kind."""
    folder = root / name
    folder.mkdir(exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": cls}))
    return folder


def models_file(root: Path, body: str) -> Path:
    path = root / "models.toml"
    path.write_text(body)
    return path


def png(size: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 80, 40)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
async def make_service(settings: Settings) -> AsyncIterator[MakeService]:
    """Services on the test's settings with some changed (e.g. models_file, quota tiers)."""
    redis = await connect(settings)

    async def make(**changes: Any) -> Reelsmith:
        # Real-size fake checkpoints cost a lot: enough credits and slots that only the model decides.
        plenty = {"quota_credits": 100_000, "quota_max_in_flight": 50}
        return build_service(settings.model_copy(update={**plenty, **changes}), redis)

    yield make
    await redis.aclose()
