"""Each video family's tiny twin as the deployment's video model (`REELSMITH_VIDEO_MODEL`, which the catalog
reads the kind of): /video and /animate through the playground and a real worker, as the kind claims; what a
kind cannot do (Wan 2.1 T2V animating, Wan 2.1 I2V from text) is refused in words."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.generation.twins import build_twin, twins
from core.models import FAMILIES, Task
from core.settings import Settings
from tests.conftest import running_worker
from tests.media.helpers import png, result_bytes
from tests.playground import finished, send

FRAMES = 9
# (twin, command, works): each twin once per task its kind claims, and the defect's two refusals.
CASES = [
    ("wan-2.1-t2v", "video", True), ("wan-2.1-t2v", "animate", False),
    ("wan-2.1-i2v", "animate", True), ("wan-2.1-i2v", "video", False),
    ("wan-2.2-ti2v", "video", True), ("wan-2.2-ti2v", "animate", True),
    ("cogvideox-t2v", "video", True), ("cogvideox-i2v", "animate", True),
    ("hunyuanvideo-t2v", "video", True), ("hunyuanvideo-i2v", "animate", True),
]


@pytest.fixture(scope="module")
def twin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("video-twins-e2e")


@pytest.fixture
async def twin_worker(request: pytest.FixtureRequest, settings: Settings, twin_root: Path) -> AsyncIterator[Any]:
    """A worker whose video model is the twin the test names (the image model stays the shared tiny one)."""
    settings.video_model = str(build_twin(twin_root, request.param))
    settings.video_base_size = 32  # a real model path switches the defaults to production sizes
    settings.batch_window_s = 0.3  # jobs sent together meet in one batch
    async with running_worker(settings, PipelineSet(settings)) as w:
        yield w


@pytest.mark.parametrize(("twin_worker", "command", "works"), CASES, indirect=["twin_worker"],
                         ids=[f"{t}:{c}" for t, c, _ in CASES])
async def test_video_family_through_the_playground(web_client: TestClient[Any, Any], twin_worker: Any,
                                                   command: str, works: bool) -> None:
    chat = f"vf-{command}"
    files = [("a.png", png(size=(32, 32)))] if command == "animate" else None
    sent = await send(web_client, chat, f"/{command} a fox runs --frames {FRAMES} --steps 1", files)
    if not works:  # refused before queueing, saying what to configure
        assert not sent["ok"] and "an owner can add" in sent["message"]["text"], sent
        return
    assert sent["ok"], sent["message"]["text"]
    msg = await finished(web_client, chat, sent["job_id"])
    data, mime = await result_bytes(web_client, msg)
    assert mime == "video/mp4"
    with av.open(io.BytesIO(data)) as c:
        assert sum(1 for _ in c.decode(video=0)) == FRAMES


# Text-to-video twins whose jobs batch (an audio-video model makes one soundtrack per call: never batched).
BATCHING = sorted(name for name, spec in twins().items() if FAMILIES[spec.family].is_video
                  and not FAMILIES[spec.family].soundtrack
                  and Task.TEXT_TO_VIDEO in FAMILIES[spec.family].checkpoint(spec.kind).tasks)


@pytest.mark.parametrize("twin_worker", BATCHING, indirect=True)
async def test_video_jobs_share_a_call_through_the_worker(web_client: TestClient[Any, Any],
                                                         twin_worker: Any) -> None:
    chats = ["vb-a", "vb-b"]
    sent = await asyncio.gather(*(send(web_client, chat, f"/video tide {i} --frames {FRAMES} --steps 1 --seed {i}")
                                  for i, chat in enumerate(chats)))
    assert all(s["ok"] for s in sent), sent
    for chat, s in zip(chats, sent, strict=True):
        data, mime = await result_bytes(web_client, await finished(web_client, chat, s["job_id"]))
        with av.open(io.BytesIO(data)) as c:
            assert mime == "video/mp4" and sum(1 for _ in c.decode(video=0)) == FRAMES
    batches = twin_worker.ctx["runtime"].batcher.batches
    assert sorted(batches) == [2], batches  # both jobs in one pipeline call
