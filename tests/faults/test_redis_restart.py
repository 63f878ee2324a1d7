"""Redis restarted (AOF, as deployed): queued jobs, records and pending replies survive; worker and bot reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

from bots.web.app import WebPlayground
from core.generation.pipeline import GenerationResult, Job, PipelineSet
from core.queue.embedded_redis import EmbeddedRedis
from core.queue.replies import GROUP
from core.service.facade import Reelsmith
from tests.conftest import running_worker, wait_for
from tests.faults.conftest import Collector, image_request, settled


@contextlib.asynccontextmanager
async def playground(service: Reelsmith) -> AsyncIterator[TestClient[Any, Any]]:
    """The web bot, up for the duration of the block (a fresh process's worth of state each time)."""
    pg = WebPlayground(service)
    pg.consumer.block_ms = 50
    client = TestClient(TestServer(pg.build_app(), host="127.0.0.1"), headers=pg.access.bearer_header())
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def restart(server: EmbeddedRedis) -> None:
    server.stop()
    server.start()


async def submit(client: TestClient[Any, Any], text: str) -> str:
    async def attempt() -> str | None:
        resp = await client.post("/api/command", json={"chat": "room", "text": text})
        if resp.status != 200:  # Redis was unreachable for this request; a member would resend
            return None
        body = await resp.json()
        assert body["ok"], body
        return str(body["job_id"])

    return str(await wait_for(attempt, timeout=60, interval=0.2))


async def delivered(client: TestClient[Any, Any], job_ids: list[str]) -> list[dict[str, Any]]:
    """Wait until every job's status message shows its final result; returns the chat's messages."""
    async def all_done() -> list[dict[str, Any]] | None:
        resp = await client.get("/api/messages", params={"chat": "room"})
        if resp.status != 200:
            return None
        msgs = (await resp.json())["messages"]
        done = {m.get("job_id") for m in msgs if m.get("done") and m.get("media")}
        return msgs if set(job_ids) <= done else None

    return list(await wait_for(all_done, timeout=120, interval=0.1))


async def test_state_survives_restarts_and_everyone_reconnects(
    own_redis: EmbeddedRedis, fservice: Reelsmith, pipelines: PipelineSet
) -> None:
    s = fservice.settings
    async with playground(fservice) as p1:
        j1, j2 = await submit(p1, "/imagine a fox"), await submit(p1, "/imagine an owl")

    restart(own_redis)  # queued jobs (no worker yet) must come back from the AOF

    async def queued() -> int:
        return await fservice.queue.depth()

    assert await wait_for(queued, timeout=30) == 2
    async with running_worker(fservice.settings, pipelines):
        await wait_for(lambda: fservice.queue.load_reply(j2), timeout=120)
        await wait_for(lambda: fservice.queue.load_reply(j1), timeout=120)
        # The bot is down: both replies wait in its stream. Restart Redis under the running worker.
        restart(own_redis)

        async def pending_replies() -> int:
            entries = await fservice.redis.xrange(s.key("replies", "web"))
            return sum(1 for _id, fields in entries if fields.get(b"type") == b"reply")

        assert await wait_for(pending_replies, timeout=30) == 2
        async with playground(fservice) as p2:
            msgs = await delivered(p2, [j1, j2])
            for job in (j1, j2):
                assert sum(1 for m in msgs if m.get("job_id") == job) == 1
            j3 = await submit(p2, "/imagine a cat")  # the worker reconnected by itself
            await delivered(p2, [j3])
            restart(own_redis)  # now under the bot's reply consumer as well
            j4 = await submit(p2, "/imagine a dog")
            msgs = await delivered(p2, [j4])
            assert len([m for m in msgs if m.get("job_id")]) == 4
    pending = await fservice.redis.xpending(s.key("replies", "web"), GROUP)
    assert pending["pending"] == 0


async def test_redis_restart_under_a_running_job_still_gives_one_reply(
    own_redis: EmbeddedRedis, fservice: Reelsmith, pipelines: PipelineSet, collector: Collector,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    # The job's pipeline run waits until Redis is back: it is running all through the outage, however fast the
    # tiny model's steps are on this machine (not a long job that is only likely to outlast it).
    redis_back = threading.Event()
    render = pipelines.render

    def render_after_the_outage(jobs: Sequence[Job]) -> list[GenerationResult]:
        assert redis_back.wait(timeout=120), "Redis never came back"
        return render(jobs)

    monkeypatch.setattr(pipelines, "render", render_after_the_outage)
    try:
        async with running_worker(fservice.settings, pipelines) as w:
            request = image_request(steps=2)
            await fservice.queue.enqueue(request)

            async def running() -> bool:
                return await fservice.queue.state(request.job_id) == "running"

            await wait_for(running, timeout=60, interval=0.02)
            own_redis.stop()
            # Down long enough for the worker's own loop to notice, not just a retried command.
            await wait_for(lambda: asyncio.sleep(0, "redis unavailable" in caplog.text), timeout=60)
            own_redis.start()
            redis_back.set()
            reply = await settled(fservice, request.job_id)
            assert reply.error is None and reply.media
            await wait_for(lambda: asyncio.sleep(0, collector.replies(request.job_id)), timeout=60)
            assert len(collector.replies(request.job_id)) == 1
            assert w.jobs_failed == 0
    finally:
        redis_back.set()  # a failed test leaves no thread waiting


async def test_connection_lost_while_claiming_a_job_is_an_outage_not_the_workers_end(
    fservice: Reelsmith, pipelines: PipelineSet, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Sentinel failover or restart can drop the connection while arq WATCHes a job it claims; redis-py then
    raises WatchError. The worker backs off like in any outage, gives the slot back and takes the job after."""
    caplog.set_level(logging.INFO)
    send = Pipeline._send_command_parse_response
    dropped: list[str] = []

    async def drop_once(self: Pipeline, conn: Any, command_name: str, *args: Any, **options: Any) -> Any:
        if self.watching and command_name.upper() == "ZSCORE" and not dropped:
            dropped.append(command_name)
            raise RedisConnectionError("Connection closed by server.")  # what a killed master's socket gives
        return await send(self, conn, command_name, *args, **options)

    monkeypatch.setattr(Pipeline, "_send_command_parse_response", drop_once)
    async with running_worker(fservice.settings, pipelines) as w:
        request = image_request(steps=1)
        await fservice.queue.enqueue(request)
        reply = await settled(fservice, request.job_id, timeout=60)
        assert dropped, "the claim's connection was never dropped (redis-py changed?)"
        assert reply.error is None and reply.media
        assert "redis unavailable" in caplog.text

        async def slots_free() -> bool:
            return bool(w.job_counter == 0)

        await wait_for(slots_free, timeout=30)  # the failed claim's slot was given back
