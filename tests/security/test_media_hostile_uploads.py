"""Issue 14, section 3: an SDP description behind a media prefix must not make FFmpeg bind the uploader's UDP
ports or stall the event loop; it is refused at once, through the playground, like any unreadable file."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from tests.playground import send
from tests.security.media_helpers import PREFIXES, UdpWatch, free_udp_port, sdp_behind, slowest_answer_while

# What each prefix passes the sniff as, and so the words of the answer.
UNREADABLE = {"id3": "audio file is damaged", "ebml": "video is damaged", "oggs": "audio file is damaged"}


async def _nothing_kept(service: Reelsmith) -> None:
    assert await service.queue.depth() == 0
    assert [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))] == []


@pytest.mark.parametrize("prefix", list(PREFIXES))
async def test_sdp_behind_a_media_prefix_binds_no_socket_and_is_refused_at_once(
        web_client: TestClient[Any, Any], service: Reelsmith, prefix: str) -> None:
    port = free_udp_port()
    started = time.monotonic()
    with UdpWatch({port, port + 1}) as watch:
        sent = await send(web_client, "sdp", "/video a fox", [(f"clip.{prefix}", sdp_behind(prefix, port))])
    elapsed = time.monotonic() - started
    assert watch.seen == set(), f"FFmpeg bound the uploader's UDP ports {watch.seen}"
    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert UNREADABLE[prefix] in sent["message"]["text"], sent["message"]["text"]
    assert elapsed < 3.0, f"the refusal took {elapsed:.1f} s"
    await _nothing_kept(service)


async def test_three_hostile_uploads_at_once_leave_the_event_loop_free(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    ports = {prefix: free_udp_port() for prefix in PREFIXES}

    async def three_uploads() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(
            send(web_client, f"sdp-{prefix}", "/video a fox", [(f"clip.{prefix}", sdp_behind(prefix, port))])
            for prefix, port in ports.items())))

    with UdpWatch({p + d for p in ports.values() for d in (0, 1)}) as watch:
        answers, slowest = await slowest_answer_while(web_client, "bystander", three_uploads)
    assert slowest < 0.5, f"the playground took {slowest:.1f} s to answer a bystander during the uploads"
    assert watch.seen == set()
    assert all(not a["ok"] and a["job_id"] is None for a in answers), answers
    assert (await web_client.get("/healthz")).status == 200
    await _nothing_kept(service)
