"""Extend on a video result through a real worker (tiny LTX twin): more frames, the join at the source's last
frame, priced by the added frames once however often pressed, refused over the clip limit and once expired."""

from __future__ import annotations

import asyncio
from typing import Any

from PIL import Image

from core.context import ChatContext
from core.extend.request import added_frames
from core.generation.extend import overlap_frames, stitch
from core.labelling.provenance import ProvenanceRegistry
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, JobKind, Requester
from tests.conftest import wait_for
from tests.extend.checks import ADDED, diff, frames_of

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")


async def _done(service: Reelsmith, job_id: str) -> GenerationReply:
    reply: GenerationReply = await wait_for(lambda: service.queue.load_reply(job_id), timeout=120)
    return reply


async def _queued_besides(service: Reelsmith, done: GenerationReply) -> list[bytes]:
    """Jobs in the queue other than `done`, which arq keeps there until its function returns (after the reply)."""
    queued = await service.queue.arq.zrange(service.settings.queue_name, 0, -1)
    return [j for j in queued if j != done.job_id.encode()]


async def _video(service: Reelsmith, text: str = "/video a fox runs --frames 9") -> GenerationReply:
    out = await service.handle(ALICE, text)
    assert out.ok and out.job_id, out.text
    reply = await _done(service, out.job_id)
    assert reply.error is None and reply.media[0].mime == "video/mp4"
    return reply


def test_added_frames_and_stitching() -> None:
    assert added_frames(2.0, 24) == 48 and added_frames(0.3, 24) == 8 and added_frames(0.01, 24) == 8
    assert overlap_frames(9, conditioned=False) == 1 and overlap_frames(25, conditioned=True) == 9
    assert overlap_frames(5, conditioned=True) == 1
    src = [Image.new("RGB", (4, 4), (i, 0, 0)) for i in range(3)]
    run = [Image.new("RGB", (4, 4), (100 + i, 0, 0)) for i in range(4)]
    out = stitch(src, run, overlap=1)
    assert [f.getpixel((0, 0))[0] for f in out] == [0, 1, 2, 101, 102, 103]  # the join is not doubled


async def test_extend_a_video_result(settings: Settings, pipelines: Any) -> None:
    from core.queue.connection import connect
    from core.service.features import build_service
    from tests.conftest import running_worker

    s = settings.model_copy(update={"extend_s": 0.3, "quota_cost_frames": 8})
    redis = await connect(s)
    service = build_service(s, redis)
    try:
        async with running_worker(s, pipelines):
            source = await _video(service)
            assert "Extend" in [b.label for b in service.result_buttons(source)]
            book = QuotaBook(redis, s)
            before = (await book.usage("web", "alice")).used
            data = button_data("extend", source.job_id)
            presses = await asyncio.gather(*(service.action(ALICE, ChatContext(), data) for _ in range(3)))
            assert sum(1 for p in presses if p.ok) == 1, [p.text for p in presses]
            [press] = [p for p in presses if p.ok]
            assert press.request is not None and press.request.kind == JobKind.EXTEND
            request = press.request
            assert request.num_frames == ADDED and request.source_job == source.job_id
            assert request.source_frames == 9
            reply = await _done(service, request.job_id)
            assert reply.error is None, reply.error
            # Priced by the frames it adds (one unit of 8), not the whole 17-frame clip (three).
            charged = (await book.usage("web", "alice")).used - before
            assert charged == job_cost(request, s)
            assert charged < job_cost(request.model_copy(update={"num_frames": 17}), s)

            src_blob = await service.media(source.media[0].blob_key)
            new_blob = await service.media(reply.media[0].blob_key)
            assert src_blob is not None and new_blob is not None
            src_frames, new_frames = frames_of(src_blob[0]), frames_of(new_blob[0])
            assert len(src_frames) == 9 and len(new_frames) == 9 + ADDED
            join, others = diff(new_frames[8], src_frames[8]), min(diff(new_frames[8], f) for f in src_frames[:8])
            assert join < 12.0 and join < others / 2, (join, others)  # the join: the source's last frame
            assert reply.media[0].duration_s == (9 + ADDED) / request.fps
            record = await wait_for(lambda: ProvenanceRegistry(redis, s).get(request.job_id))  # a finalizer
            assert record.source_job == source.job_id and record.kind == "extend"

            # Extend the extension: it knows its own length.
            again = await service.action(ALICE, ChatContext(), button_data("extend", reply.job_id))
            assert again.ok and again.request is not None and again.request.source_frames == 9 + ADDED
    finally:
        await redis.aclose()


async def test_over_the_limit_and_expired_are_refused_free(settings: Settings, pipelines: Any) -> None:
    from core.queue.connection import connect
    from core.service.features import build_service
    from tests.conftest import running_worker

    s = settings.model_copy(update={"max_frames": 20, "extend_s": 2.0})
    redis = await connect(s)
    service = build_service(s, redis)
    try:
        async with running_worker(s, pipelines):
            source = await _video(service, "/video a fox runs --frames 17")
            book = QuotaBook(redis, s)
            before = (await book.usage("web", "alice")).used
            out = await service.action(ALICE, ChatContext(), button_data("extend", source.job_id))
            assert not out.ok and "at most 20 frames" in out.text and "this one is 17" in out.text, out.text
            assert (await book.usage("web", "alice")).used == before and await _queued_besides(service, source) == []

            short = await _video(service, "/video a fox sits --frames 9")
            before = (await book.usage("web", "alice")).used
            await service.blobs.delete([short.media[0].blob_key])
            out = await service.action(ALICE, ChatContext(), button_data("extend", short.job_id))
            assert not out.ok and "results are kept for 7 days" in out.text, out.text
            assert (await book.usage("web", "alice")).used == before
            # An image result has no Extend button, and the action refuses it.
            image = await service.handle(ALICE, "/imagine a fox")
            assert image.job_id
            done = await _done(service, image.job_id)
            assert "Extend" not in [b.label for b in service.result_buttons(done)]
            out = await service.action(ALICE, ChatContext(), button_data("extend", image.job_id))
            assert not out.ok and "finished video" in out.text
    finally:
        await redis.aclose()


async def test_extend_from_the_playground(web_client: Any, worker: Any, service: Reelsmith) -> None:
    from tests.extend.checks import assert_extended
    from tests.playground import finished, send

    service.settings.extend_s = 0.3
    sent = await send(web_client, "chatE", "/video a fox runs --frames 9")
    msg = await finished(web_client, "chatE", sent["job_id"])
    extend = next(b for b in msg["buttons"] if b["label"] == "Extend")
    out = await (await web_client.post("/api/button", json={"chat": "chatE", "data": extend["data"]})).json()
    assert out["ok"], out
    done = await finished(web_client, "chatE", out["job_id"])
    assert not done["error"], done["text"]
    source = await (await web_client.get(msg["media"][0]["url"])).read()
    longer = await (await web_client.get(done["media"][0]["url"])).read()
    assert_extended(source, longer)


async def test_extend_carries_the_soundtrack_on(settings: Settings, pipelines: Any) -> None:
    """A clip made with a member's audio: the extended clip has sound over its whole, longer length."""
    import io

    import av

    from core.contract import Attachment
    from core.queue.connection import connect
    from core.service.features import build_service
    from tests.conftest import running_worker
    from tests.media.helpers import wav

    s = settings.model_copy(update={"extend_s": 0.3})
    redis = await connect(s)
    service = build_service(s, redis)

    def sound_seconds(data: bytes) -> float:
        with av.open(io.BytesIO(data)) as c:
            assert c.streams.audio, "no soundtrack"
            rate = c.streams.audio[0].rate
            return sum(f.samples for f in c.decode(audio=0)) / rate

    try:
        async with running_worker(s, pipelines):
            # Voice consent: this chat accepts audio references without a verified avatar.
            assert (await service.handle(ALICE, "/mod audio on", ctx=ChatContext(is_moderator=True))).ok
            out = await service.handle(ALICE, "/video waves with @audio1 --frames 9", [Attachment(wav(2.0), "sea.wav")])
            assert out.ok and out.job_id, out.text
            source = await _done(service, out.job_id)
            assert source.error is None, source.error
            press = await service.action(ALICE, ChatContext(), button_data("extend", source.job_id))
            assert press.ok and press.request is not None, press.text
            reply = await _done(service, press.request.job_id)
            assert reply.error is None, reply.error
            src, new = [await service.media(r.media[0].blob_key) for r in (source, reply)]
            assert src is not None and new is not None
            fps = press.request.fps
            assert abs(sound_seconds(src[0]) - 9 / fps) < 0.05
            assert abs(sound_seconds(new[0]) - (9 + ADDED) / fps) < 0.05  # the sound goes on with the picture
    finally:
        await redis.aclose()
