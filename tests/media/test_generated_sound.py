"""A video model that makes its own sound (tiny random-weight LTX-2): /video returns a clip with a soundtrack."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.generation.tiny_ltx2 import build_tiny_ltx2
from core.settings import Settings
from tests.conftest import running_worker
from tests.media.helpers import result_bytes
from tests.playground import finished, send


@pytest.fixture(scope="module")
def ltx2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_ltx2(tmp_path_factory.mktemp("ltx2") / "tiny-ltx2")


@pytest.fixture
async def sound_worker(settings: Settings, ltx2_dir: Path, pipelines: PipelineSet) -> AsyncIterator[Any]:
    """A worker whose video model is the tiny LTX-2 (the image model stays the shared tiny one)."""
    settings.video_model = str(ltx2_dir)
    settings.video_base_size = 32  # a real model id switches the defaults to production sizes
    async with running_worker(settings, PipelineSet(settings)) as w:
        yield w


async def test_video_model_soundtrack_is_muxed(web_client: TestClient[Any, Any], sound_worker: Any) -> None:
    sent = await send(web_client, "mLtx2", "/video a robot dancing --frames 9 --steps 1")
    assert sent["ok"], sent["message"]["text"]
    msg = await finished(web_client, "mLtx2", sent["job_id"])
    assert "tiny-ltx2" in msg["text"]  # the caption names the model that made it
    data, mime = await result_bytes(web_client, msg)
    assert mime == "video/mp4"
    with av.open(io.BytesIO(data)) as c:
        assert c.streams.audio, "the generated soundtrack is missing"
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.audio[0]
        seconds = sum(f.samples for f in c.decode(audio=0)) / stream.rate
        codec = stream.codec_context.name
    assert frames == 9 and codec == "aac"
    assert abs(seconds - 9 / 24) < 0.05


async def test_animate_with_a_sound_model(web_client: TestClient[Any, Any], sound_worker: Any) -> None:
    from tests.media.helpers import png

    sent = await send(web_client, "mLtx2a", "/animate make it hum --frames 9 --steps 1", [("a.png", png())])
    assert sent["ok"], sent["message"]["text"]
    data, mime = await result_bytes(web_client, await finished(web_client, "mLtx2a", sent["job_id"]))
    with av.open(io.BytesIO(data)) as c:
        assert mime == "video/mp4" and c.streams.audio


def test_sound_model_jobs_run_one_by_one(settings: Settings, ltx2_dir: Path) -> None:
    from core.generation.pipeline import Job
    from core.types import GenerationRequest, JobKind, Requester

    settings.video_model = str(ltx2_dir)
    who = Requester(platform="web", user_id="u", chat_id="c")
    jobs = [Job(GenerationRequest(requester=who, kind=JobKind.VIDEO, prompt=f"hum {seed}", width=32, height=32,
                                  seed=seed, steps=1, num_frames=9)) for seed in (1, 2)]
    results = PipelineSet(settings).render(jobs)  # one soundtrack per call: each job gets its own
    assert [(r.batch_size, r.audio is not None, len(r.frames)) for r in results] == [(1, True, 9), (1, True, 9)]
