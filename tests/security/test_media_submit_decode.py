"""Issue 14, section 4 (media part): what a job needs is decoded at submit, so input that cannot be used is refused
before anything is charged, queued or stored; here an M4A whose header promises sound but which has no samples."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.quotas.book import QuotaBook
from core.service.facade import Reelsmith
from tests.playground import send
from tests.security.media_helpers import m4a_without_samples


async def test_audio_with_a_header_but_no_samples_is_refused_at_submit_and_costs_nothing(
        web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    chat = "nosound"
    on = await send(web_client, chat, "/mod audio on")  # the playground's member moderates its chat
    assert on["ok"], on["message"]["text"]
    book = QuotaBook(service.redis, service.settings)
    before = await book.usage("web", chat)

    sent = await send(web_client, chat, "/video a fox dancing", [("song.m4a", m4a_without_samples(2.0))])

    assert not sent["ok"] and sent["job_id"] is None, sent["message"]["text"]
    assert "no sound in it" in sent["message"]["text"], sent["message"]["text"]
    after = await book.usage("web", chat)
    assert (after.used, after.in_flight) == (before.used, before.in_flight) == (0, 0)
    assert await service.queue.depth() == 0
    assert [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))] == []
    assert [k async for k in service.redis.scan_iter(match=service.settings.key("job", "*"))] == []
