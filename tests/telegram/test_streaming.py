"""A large video that fits the upload limit goes to Telegram from the store's file, never whole in memory."""

from __future__ import annotations

import hashlib
import os

import pytest
from aiohttp import web
from telegram import File

from bots.telegram.app import TelegramBot
from bots.telegram.files import AttachmentRefused, MediaItem, fetch
from core.queue.replies import ReplyBus
from core.service.facade import Reelsmith
from tests.streaming import CountingStore, no_whole_reads
from tests.telegram.conftest import ALICE, answer_to, queue_job, reply_for, until
from tests.telegram.fake_api import FakeBotAPI

LARGE = 40 * 1024 * 1024


async def test_a_large_video_is_uploaded_in_chunks_from_the_store(api: FakeBotAPI, bot: TelegramBot,
                                                                  service: Reelsmith,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _msg, _status, request = await queue_job(api, service, "/video a fox running")
    data = os.urandom(LARGE)  # under the 50 MB limit: goes as it is, so it is never decoded
    reply = await reply_for(service, request, data, "video/mp4")
    counting = CountingStore(service.blobs.store)
    service.blobs.store = counting
    with no_whole_reads(monkeypatch):
        await ReplyBus(service.redis, service.settings).publish_reply(reply)
        [video] = await until(lambda: api.sent("sendVideo"), timeout=60)
    sent = video.upload("video")
    assert len(sent) == LARGE and hashlib.sha256(sent).digest() == hashlib.sha256(data).digest()
    assert video.filenames["video"] == f"reelsmith-{request.job_id}.mp4 video/mp4"  # as when sent as bytes
    assert video.params["supports_streaming"] == "true" and video.params["width"] == "64"
    assert video.params["caption"].startswith("\U0001f916 AI-generated")
    assert counting.reads.opened == [reply.media[0].blob_key]
    print(f"telegram: largest read {counting.reads.largest} of {LARGE}, {counting.reads.total} read in all")
    assert 0 < counting.reads.largest <= 1024 * 1024, counting.reads


async def test_a_download_that_lies_about_its_size_is_cut_off_at_the_cap() -> None:
    # A server that says nothing of the length and never stops: the old download (PTB's retrieve, the whole
    # body into memory first) would read until memory ran out; the streamed one stops just past the cap.
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        resp = web.StreamResponse()
        await resp.prepare(request)
        chunk = b"\x00" * 65536
        try:
            while sent < 512 * 1024 * 1024:  # a bound only so a broken test cannot fill the machine
                await resp.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the client hung up: what we want
        return resp

    app = web.Application()
    app.router.add_get("/file/bot1:x/videos/v.mp4", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    limit = 2 * 1024 * 1024
    item = MediaItem("f1", "video", "v.mp4", "video/mp4", size=1000)  # what the message claimed
    file = File("f1", "u1", file_size=1000, file_path=f"http://127.0.0.1:{port}/file/bot1:x/videos/v.mp4")
    try:
        with pytest.raises(AttachmentRefused, match="too big to fetch"):
            await fetch(file, item, limit)
    finally:
        await runner.cleanup()
    assert limit < sent < limit + 32 * 1024 * 1024, sent  # cut off, give or take the socket buffers


async def test_a_lying_attachment_is_refused_and_queues_nothing(api: FakeBotAPI, bot: TelegramBot,
                                                                service: Reelsmith) -> None:
    service.settings.telegram_max_download_bytes = 1024 * 1024
    video = api.video(b"\x00" * (3 * 1024 * 1024), size=1000)  # says 1000 bytes, in the message and in getFile
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=video))
    text = answer.params["text"]
    assert "too big" in text and "1 MB" in text, text
    assert await service.queue.depth() == 0
