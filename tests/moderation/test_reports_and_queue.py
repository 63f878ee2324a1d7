"""Reports end to end (playground -> review chat -> Delete/Ban/Dismiss) and /mod queue + cancel."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image

from core.context import ChatContext
from core.errors import GenerationError
from core.generation.pipeline import GenerationResult
from core.moderation.queue_admin import cancelled_reply
from core.queue.finisher import CANCELLED_TEXT, JobFinisher
from core.queue.replies import ReplyConsumer
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest
from tests.conftest import wait_for
from tests.moderation.conftest import MEMBER_CTX, MOD_CTX, Rig, person

REVIEWER = ChatContext(is_moderator=True)


async def _post(client: TestClient[Any, Any], path: str, **body: str) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status == 200
    return dict(await resp.json())


async def _messages(client: TestClient[Any, Any], chat: str) -> list[dict[str, Any]]:
    resp = await client.get("/api/messages", params={"chat": chat})
    return list((await resp.json())["messages"])


async def test_report_flow_end_to_end(web_client: TestClient[Any, Any], worker: Any, service: Reelsmith) -> None:
    sent = await _post(web_client, "/api/command", chat="pub", text="/imagine a red fox")
    job_id = sent["job_id"]

    async def result() -> dict[str, Any] | None:
        return next((m for m in await _messages(web_client, "pub") if m.get("job_id") == job_id and m["done"]), None)

    msg = await wait_for(result, timeout=60)
    report = next(b["data"] for b in msg["buttons"] if b["label"] == "Report")
    answer = await _post(web_client, "/api/button", chat="pub", data=report)
    assert answer["ok"] and "moderators will review" in answer["message"]["text"]

    async def review_notice() -> dict[str, Any] | None:
        return next((m for m in await _messages(web_client, "review") if m.get("buttons")), None)

    notice = await wait_for(review_notice, timeout=20)
    assert job_id in notice["text"] and "a red fox" in notice["text"]
    assert notice["media"] and notice["media"][0]["mime"] == "image/png"
    labels = {b["label"]: b["data"] for b in notice["buttons"]}
    assert set(labels) == {"Delete", "Ban user", "Dismiss"}

    # Pressed from a chat that isn't the review chat: refused (the playground moderates every chat it serves).
    out = await _post(web_client, "/api/button", chat="pub", data=labels["Delete"])
    assert not out["ok"] and "review chat" in out["message"]["text"]

    out = await _post(web_client, "/api/button", chat="review", data=labels["Delete"])
    assert out["ok"], out

    async def removed() -> bool:
        m = next(m for m in await _messages(web_client, "pub") if m.get("job_id") == job_id)
        return "removed by a moderator" in m["text"] and m["media"] == []

    assert await wait_for(removed, timeout=20)
    out = await _post(web_client, "/api/button", chat="review", data=labels["Ban user"])
    assert out["ok"] and "Banned" in out["message"]["text"]
    refused = await _post(web_client, "/api/command", chat="pub", text="/imagine another fox")
    assert not refused["ok"] and "banned" in refused["message"]["text"]

    raw = await service.redis.xrevrange(service.settings.key("mod", "audit"), count=50)
    kinds = [(f[b"kind"].decode(), f[b"action"].decode(), f[b"chat"].decode()) for _i, f in raw]
    assert ("report", "report", "pub") in kinds
    assert ("action", "delete", "review") in kinds and ("action", "ban", "review") in kinds
    assert ("refusal", "not_moderator", "pub") in kinds and ("refusal", "banned", "pub") in kinds


async def test_report_without_worker(rig: Rig) -> None:
    bob, eve = person("bob"), person("eve")
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert out.job_id
    first = await rig.service.action(eve, MEMBER_CTX, button_data("report", out.job_id))
    again = await rig.service.action(person("ann"), MEMBER_CTX, button_data("report", out.job_id))
    assert first.ok and again.ok and "already been reported" in again.text
    stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    notices = [ReplyConsumer._decode(i, f).notice for i, f in stream]
    assert len([n for n in notices if n is not None]) == 1
    foreign = await rig.service.action(person("zed", "elsewhere"), MEMBER_CTX, button_data("report", out.job_id))
    assert not foreign.ok
    # The owner (configured) may act from anywhere (while the report is open: dismissing closes it).
    delete = await rig.service.action(person("owner", "dm"), MEMBER_CTX, button_data("mdel", out.job_id))
    assert delete.ok
    dismiss = await rig.service.action(person("rita", "review"), REVIEWER, button_data("mdis", out.job_id))
    assert dismiss.ok and "Dismissed" in dismiss.text
    stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    deletes = [ReplyConsumer._decode(i, f).delete for i, f in stream]
    assert [d.job_id for d in deletes if d is not None] == [out.job_id]


async def test_mod_delete_from_the_chat(rig: Rig) -> None:
    out = await rig.service.handle(person("bob"), "/imagine a fox", ctx=MEMBER_CTX)
    assert out.job_id
    other = await rig.service.handle(person("maud", "room2"), f"/mod delete {out.job_id}", ctx=MOD_CTX)
    assert not other.ok
    deleted = await rig.service.handle(person("maud"), f"/mod delete {out.job_id}", ctx=MOD_CTX)
    assert deleted.ok
    stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    assert [f[b"type"] for _i, f in stream] == [b"delete"]


async def test_cancel_queued_job_answers_and_refunds(rig: Rig) -> None:
    bob, maud = person("bob"), person("maud")
    jobs = [await rig.service.handle(bob, f"/imagine fox {i}", ctx=MEMBER_CTX) for i in range(2)]
    elsewhere = await rig.service.handle(person("zed", "room2"), "/imagine a cat")
    listing = await rig.service.handle(maud, "/mod queue", ctx=MOD_CTX)
    assert all(j.job_id and j.job_id in listing.text for j in jobs) and str(elsewhere.job_id) not in listing.text
    assert "queued image by bob: fox 0" in listing.text

    target = str(jobs[0].job_id)
    refused = await rig.service.handle(person("maud", "room2"), f"/mod cancel {target}", ctx=MOD_CTX)
    assert not refused.ok and await rig.service.queue.depth() == 3
    out = await rig.service.handle(maud, f"/mod cancel {target}", ctx=MOD_CTX)
    assert out.ok and "taken off the queue" in out.text
    assert await rig.service.queue.depth() == 2 and await rig.service.queue.state(target) == "cancelled"
    reply = await rig.service.queue.load_reply(target)
    assert reply is not None and reply.error == CANCELLED_TEXT
    stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    [event] = [ReplyConsumer._decode(i, f) for i, f in stream]
    assert event.reply is not None and event.reply.job_id == target and event.reply.error == CANCELLED_TEXT
    assert [(r.job_id, p.error) for r, p in rig.finalized] == [(target, CANCELLED_TEXT)]  # refund hook ran
    again = await rig.service.handle(maud, f"/mod cancel {target}", ctx=MOD_CTX)
    assert not again.ok and "already finished" in again.text
    assert [(e.kind, e.action) for e in await rig.mod.audit.recent("web", "room1", 2)] == [
        ("refusal", "invalid"), ("action", "cancel")]


async def test_a_cancelled_job_is_settled_once_whoever_finishes_it(rig: Rig) -> None:
    bob, maud = person("bob"), person("maud")
    job = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    target = str(job.job_id)
    assert (await rig.service.handle(maud, f"/mod cancel {target}", ctx=MOD_CTX)).ok
    request = await rig.service.queue.load_request(target)
    assert request is not None and [r.job_id for r, _ in rig.finalized] == [target]
    # A worker that finds the job answered (a retry) settles it only if nobody has: the same run-once claim.
    worker_side = JobFinisher(rig.service.redis, rig.service.settings, rig.service.finisher.finalizers)
    await worker_side.finalize_once(request)
    await worker_side.finish(request, cancelled_reply(request), "cancelled")
    assert [r.job_id for r, _ in rig.finalized] == [target]
    stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    assert len([e for e in (ReplyConsumer._decode(i, f) for i, f in stream) if e.reply is not None]) == 1


class BlockingPipelines:
    """Stands in for PipelineSet: `generate` blocks until released, like a long render."""

    device = "cpu"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def warm_up(self) -> None:
        pass

    def generate(self, request: GenerationRequest, images: list[Image.Image],
                 progress: Callable[[int, int], None], should_stop: Callable[[], bool] | None = None,
                 ) -> GenerationResult:
        self.started.set()
        # Like a real pipeline, it checks between steps whether it should stop.
        for _ in range(600):
            if self.release.wait(0.05) or (should_stop is not None and should_stop()):
                break
        raise GenerationError("released")


async def test_cancel_running_job(rig: Rig, mod_settings: Settings) -> None:
    from workers.settings import build_worker

    pipes = BlockingPipelines()
    w = build_worker(mod_settings, warm=False, pipelines=pipes, handle_signals=False)  # type: ignore[arg-type]
    task = asyncio.create_task(w.async_run())
    try:
        out = await rig.service.handle(person("bob"), "/imagine a slow fox", ctx=MEMBER_CTX)
        job_id = str(out.job_id)
        await wait_for(lambda: asyncio.to_thread(pipes.started.wait, 0.05), timeout=30)
        listing = await rig.service.handle(person("maud"), "/mod queue", ctx=MOD_CTX)
        assert f"{job_id} running" in listing.text
        cancelled = await rig.service.handle(person("maud"), f"/mod cancel {job_id}", ctx=MOD_CTX)
        assert cancelled.ok and "is running; it is being stopped" in cancelled.text
        reply = await wait_for(lambda: rig.service.queue.load_reply(job_id), timeout=20)
        assert reply.error == CANCELLED_TEXT
        stream = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
        replies = [e.reply for e in (ReplyConsumer._decode(i, f) for i, f in stream) if e.reply is not None]
        assert [r.error for r in replies] == [CANCELLED_TEXT]
    finally:
        pipes.release.set()
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
