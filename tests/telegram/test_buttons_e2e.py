"""End to end with a real arq worker (tiny models): /imagine -> labelled photo with buttons -> Animate -> video;
a bot restart while a job runs still delivers the result exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

import av
from PIL import Image

from bots.telegram.app import TelegramBot
from core.generation.pipeline import PipelineSet
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.result_buttons_expected import IMAGE_ACTIONS
from tests.telegram.conftest import ALICE, GROUP, answer_to, make_bot, until
from tests.telegram.fake_api import FakeBotAPI


async def test_imagine_then_animate_button(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                          worker: Any) -> None:
    msg = api.message(GROUP, ALICE, "/imagine@ReelsmithBot a red fox --ar 16:9 --seed 7")
    assert "Queued" in (await answer_to(api, msg)).params["text"]
    [photo] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    image = Image.open(io.BytesIO(photo.upload("photo")))
    # Telegram gets a JPEG made by the worker (it turns photos into JPEG anyway), its XMP label inside.
    assert image.format == "JPEG" and image.size == (64, 32)
    assert b"trainedAlgorithmicMedia" in image.info.get("xmp", b"")
    assert photo.params["caption"].startswith("\U0001f916 AI-generated with Reelsmith")
    assert "seed 7" in photo.params["caption"]
    job_id = photo.params["caption"].split("job ")[1].split(" ")[0]
    assert photo.callback_data() == [button_data(a, job_id) for a in IMAGE_ACTIONS]
    result_msg = photo.result

    # Animate turns the image into a streamable, labelled MP4, posted under the image.
    api.press(GROUP, ALICE, result_msg, button_data("animate", job_id))
    [video] = await until(lambda: api.sent("sendVideo"), timeout=120)
    assert video.params["supports_streaming"] == "true"
    assert video.params["caption"].startswith("\U0001f916 AI-generated")
    assert video.json("reply_parameters")["message_id"] == result_msg["message_id"]
    with av.open(io.BytesIO(video.upload("video"))) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.metadata.get("DigitalSourceType") is not None


async def test_bot_restart_while_job_runs_delivers_once(api: FakeBotAPI, service: Reelsmith, settings: Settings,
                                                        pipelines: PipelineSet) -> None:
    from workers.settings import build_worker

    first = make_bot(service)
    await first.start()
    msg = api.message(ALICE, ALICE, "/imagine a fox that waits")
    status = await answer_to(api, msg)
    await first.stop()  # the bot goes away while the job is queued and then renders

    worker = build_worker(settings, warm=False, pipelines=pipelines, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        [job_id] = [j.decode() for j in await service.redis.zrange(settings.queue_name, 0, -1)]

        async def replied() -> bool:
            return await service.queue.load_reply(job_id) is not None
        await until_async(replied)
        assert api.sent("sendPhoto") == []  # nobody was there to post it

        second = make_bot(service)
        await second.start()
        try:
            [photo] = await until(lambda: api.sent("sendPhoto"))
            assert photo.json("reply_parameters")["message_id"] == msg["message_id"]
            deleted = await until(lambda: api.sent("deleteMessage"))
            assert deleted[0].params["message_id"] == str(status.result["message_id"])
            stream = settings.key("replies", "telegram")

            async def drained() -> bool:
                return int(await service.redis.xlen(stream)) == 0
            await until_async(drained)
        finally:
            await second.stop()
        assert len(api.sent("sendPhoto")) == 1
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def until_async(check: Any, timeout: float = 90.0) -> Any:
    from tests.conftest import wait_for

    return await wait_for(check, timeout=timeout)
