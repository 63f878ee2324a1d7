"""A job's first ready image goes out before its last one is encoded (issue 18), through the real worker.

Ordering, not timing: a signer (the last step before an image is stored) lets the first image through and holds
every later one until the first is visible downstream (on the reply stream, or on the playground page). On code
that publishes only once every image is done, the later images wait in vain and the test fails.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import redis as sync_redis
from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest, Progress, Requester
from tests.conftest import wait_for
from tests.playground import finished, send

ALICE = Requester(platform="web", user_id="alice", chat_id="first-file")
HOLD_S = 30.0  # a bound on how long a held image waits: the old code's failure, never the new code's pace


class HoldingSigner:
    """Signs nothing; lets the first call through and holds the others until `seen` is set (or HOLD_S ends)."""

    def __init__(self, seen: threading.Event) -> None:
        self.seen = seen
        self.lock = threading.Lock()
        self.calls = 0
        self.first_out_before: list[bool] = []  # for each later image: was the first one already out?

    def __call__(self, request: GenerationRequest, model: str, data: bytes, mime: str) -> bytes:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if not first:
            self.first_out_before.append(self.seen.wait(HOLD_S))
        return data


async def runtime_of(worker: Any) -> Any:
    return await wait_for(lambda: asyncio.sleep(0, worker.ctx.get("runtime")))


async def test_first_image_is_on_the_stream_before_the_last_is_encoded(settings: Settings, service: Reelsmith,
                                                                       worker: Any) -> None:
    assert settings.redis_url is not None
    stream = settings.key("replies", "web")
    seen = threading.Event()
    signer = HoldingSigner(seen)
    (await runtime_of(worker)).signers.append(signer)
    previews: list[tuple[str, Progress]] = []

    def watch(stop: threading.Event) -> None:
        """Reads the reply stream as an adapter would, in its own connection."""
        assert settings.redis_url is not None
        r = sync_redis.Redis.from_url(settings.redis_url.get_secret_value())
        last = "0"
        try:
            while not stop.is_set():
                for _name, entries in r.xread({stream: last}, block=200) or []:
                    for entry_id, fields in entries:
                        last = entry_id
                        if fields[b"type"] == b"progress":
                            p = Progress.model_validate_json(fields[b"data"])
                            if p.media:
                                previews.append((entry_id.decode(), p))
                                seen.set()
        finally:
            r.close()

    stop = threading.Event()
    watcher = asyncio.create_task(asyncio.to_thread(watch, stop))
    try:
        out = await service.handle(ALICE, "/imagine a red fox --n 4 --steps 1 --seed 5")
        assert out.ok and out.job_id, out.text
        job_id = out.job_id
        reply = await wait_for(lambda: service.queue.load_reply(job_id), timeout=120)
    finally:
        stop.set()
        await watcher
    assert reply.error is None, reply.error
    # Images 2-4 each reached their last step only after image 1 was published.
    assert signer.calls == 4 and signer.first_out_before == [True, True, True]
    assert len(previews) == 1  # once, not once per image
    entry_id, preview = previews[0]
    assert preview.state == "encoding" and preview.step == 1 and preview.total_steps == 4
    # The preview is one of the reply's own files; the reply still carries all four, in order.
    assert [m.filename for m in reply.media] == [f"reelsmith-{job_id}-{i}.png" for i in range(1, 5)]
    assert preview.media[0].blob_key in {m.blob_key for m in reply.media}
    replies = [(eid, f) for eid, f in await service.redis.xrange(stream) if f[b"type"] == b"reply"]
    assert len(replies) == 1 and replies[0][0].decode() > entry_id  # one final reply, after the preview


async def test_the_playground_shows_the_first_image_while_the_rest_encode(web_client: TestClient[Any, Any],
                                                                          worker: Any) -> None:
    seen = threading.Event()
    signer = HoldingSigner(seen)
    (await runtime_of(worker)).signers.append(signer)
    sent = await send(web_client, "chatF", "/imagine a red fox --n 3 --steps 1 --seed 8")
    assert sent["ok"], sent

    async def preview_shown() -> dict[str, Any] | None:
        resp = await web_client.get("/api/messages", params={"chat": "chatF"})
        for m in (await resp.json())["messages"]:
            if m.get("job_id") == sent["job_id"] and not m.get("done") and m.get("media"):
                return dict(m)
        return None

    shown = await wait_for(preview_shown, timeout=60)
    seen.set()
    assert len(shown["media"]) == 1 and "1 of 3 images ready" in shown["text"]
    msg = await finished(web_client, "chatF", sent["job_id"])
    assert not msg["error"], msg["text"]
    assert signer.first_out_before == [True, True]
    assert len(msg["media"]) == 3 and shown["media"][0]["url"] in [m["url"] for m in msg["media"]]
    resp = await web_client.get("/api/messages", params={"chat": "chatF"})
    ours = [m for m in (await resp.json())["messages"] if m.get("job_id") == sent["job_id"]]
    assert len(ours) == 1  # the status message became the result: nothing posted twice
