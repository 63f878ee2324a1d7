"""Issue 14, section 3: videos are refused on pixels and frame count from headers and packets before any frame is
decoded, and /verify decodes only the frames it samples (through the playground, with a real Redis)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from core.settings import Settings
from tests.faults.media_samples import png
from tests.playground import send
from tests.security.media_helpers import huge_mkv, long_mp4, many_frames_mkv, peak_rss_growth, slowest_answer_while


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings, with a test's changes (indirect parameters) on top."""
    return settings.model_copy(update=getattr(request, "param", {}))


async def _nothing_kept(service: Reelsmith) -> None:
    assert await service.queue.depth() == 0
    assert [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))] == []


async def test_huge_video_is_refused_from_its_header_before_any_frame_is_decoded(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    data = huge_mkv()  # 48 frames of 8192x8192: seconds of decoding, and 100 MB a frame
    # Decoder helpers start on first use (about a second); the timing below is about reading the file.
    warm = await send(web_client, "huge", "/verify", [("small.png", png())])
    assert warm["ok"], warm["message"]["text"]

    async def upload() -> dict[str, Any]:
        started = time.monotonic()
        sent = await send(web_client, "huge", "/animate make it dance", [("huge.webm", data)])
        sent["elapsed"] = time.monotonic() - started
        return sent

    sent, slowest = await slowest_answer_while(web_client, "bystander", upload)
    text = sent["message"]["text"]
    assert not sent["ok"] and "8192x8192" in text, text
    # Reading the header takes milliseconds; decoding even one of these frames takes far longer.
    assert sent["elapsed"] < 1.5, f"refusing it took {sent['elapsed']:.1f} s: frames were decoded first"
    assert slowest < 0.5, f"the playground took {slowest:.1f} s to answer a bystander"
    await _nothing_kept(service)


async def test_video_with_too_many_frames_is_refused_from_its_packets(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    limit = getattr(service.settings, "max_video_frames", 3600)  # main has no such limit: its default
    data = many_frames_mkv(frames=limit + 1400, fps=100)  # 50 s: under the length limit; WebM states no count
    sent = await send(web_client, "frames", "/video @video1 as a watercolour", [("many.webm", data)])
    text = sent["message"]["text"]
    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert f"more than {limit:,} frames" in text, text
    await _nothing_kept(service)


# Two samples, and frames of 1088 px (more than half the largest output side, so the watermark reader skips the
# twice-the-picture size) keep the watermark reading, which is not under test here, small and short.
@pytest.mark.parametrize("settings", [{"verify_max_video_frames": 2}], indirect=True, ids=["2 samples"])
async def test_verify_of_a_long_video_keeps_only_the_frames_it_samples(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    data = long_mp4(frames=300, side=1088)  # about 20 KB; 1 GB as pictures
    with peak_rss_growth() as growth:
        sent = await send(web_client, "verify", "/verify", [("long.mp4", data)])
    assert sent["ok"] and "video" in sent["message"]["text"], sent["message"]["text"]
    grown_mb = growth[0] / 2**20
    assert grown_mb < 250, f"the service grew by {grown_mb:.0f} MB reading a {len(data) // 1000} KB file"
