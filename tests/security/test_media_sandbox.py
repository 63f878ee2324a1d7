"""Issue 14, section 3: members' files decode in a separate process with memory, CPU and wall-clock limits, so a
hostile file costs at most that helper: the member is told what to change and the service keeps serving."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import running_worker
from tests.faults.media_samples import png
from tests.playground import finished, send
from tests.security.media_helpers import huge_mkv, rgba_png

# The huge test video passes the pixel cap here, so that decoding it (seconds of CPU) is what the limits stop.
BIG_FRAMES = {"max_image_pixels": 8192 * 8192}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings with the limits under test (indirect parameters) on top."""
    return settings.model_copy(update=getattr(request, "param", {}))


async def _still_serving(client: TestClient[Any, Any], service: Reelsmith) -> None:
    """The helper that failed is gone, nothing of the refused file is kept, and the next member is served."""
    assert await service.queue.depth() == 0
    assert [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))] == []
    assert (await client.get("/healthz")).status == 200
    ok = await send(client, "next", "/edit make it snow", [("fine.png", png())])
    assert ok["ok"] and ok["job_id"], ok["message"]["text"]


@pytest.mark.parametrize("settings", [{"media_memory_mb": 64}], indirect=True, ids=["64 MB"])
async def test_file_needing_more_memory_than_a_helper_has_is_refused(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    data = rgba_png(4096)  # 65 KB, within the pixel cap, 64 MB as RGBA and 48 MB more as RGB
    sent = await send(web_client, "memory", "/edit make it snow", [("bomb.png", data)])
    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert "needs more memory to read than I allow" in sent["message"]["text"], sent["message"]["text"]
    await _still_serving(web_client, service)


@pytest.mark.parametrize("settings", [{**BIG_FRAMES, "media_cpu_s": 1}], indirect=True, ids=["1 CPU s"])
async def test_helper_past_its_cpu_limit_is_killed_and_the_member_told(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    started = time.monotonic()
    # About 2.5 CPU s to check: past the limit however the helper's earlier use rounds it (1 to 2 s).
    sent = await send(web_client, "cpu", "/animate make it dance", [("huge.webm", huge_mkv(frames=96))])
    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert "stopped the decoder" in sent["message"]["text"], sent["message"]["text"]
    assert time.monotonic() - started < 20
    await _still_serving(web_client, service)


@pytest.mark.parametrize("settings", [{**BIG_FRAMES, "media_timeout_s": 1.0}], indirect=True, ids=["1 s"])
async def test_helper_past_its_wall_clock_is_killed_and_the_member_told(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    data = huge_mkv()
    started = time.monotonic()
    sent = await send(web_client, "slow", "/animate make it dance", [("huge.webm", data)])
    elapsed = time.monotonic() - started
    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert "took too long to read (over 1 s)" in sent["message"]["text"], sent["message"]["text"]
    assert elapsed < 5, f"the answer took {elapsed:.1f} s"
    await _still_serving(web_client, service)


async def test_worker_decodes_references_in_a_limited_helper_and_keeps_working(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    # A worker whose helpers may use less memory than the bot's: a reference the bot accepted is too much for it.
    tight = settings.model_copy(update={"media_memory_mb": 64})
    async with running_worker(tight, pipelines):
        heavy = await send(web_client, "worker", "/edit make it snow", [("big.png", rgba_png(4096))])
        assert heavy["ok"], heavy["message"]["text"]
        failed = await finished(web_client, "worker", heavy["job_id"])
        assert failed.get("error") and "needs more memory to read than I allow" in failed["text"], failed
        light = await send(web_client, "worker", "/edit make it snow", [("fine.png", png())])
        done = await finished(web_client, "worker", light["job_id"])
        assert not done.get("error") and done["media"], done
