"""The model's own safety checker is honoured: a flagged result is delivered only where NSFW is allowed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from PIL import Image

from core.context import ChatContext
from core.generation.pipeline import GenerationResult
from core.moderation.guards import NSFW_FLAGGED_TEXT
from core.service import button_data
from core.settings import Settings
from core.types import GenerationRequest
from tests.conftest import wait_for
from tests.moderation.conftest import Rig, person


class FlaggingPipelines:
    """Stands in for PipelineSet: every result comes back flagged by the model's safety checker."""

    device = "cpu"

    def warm_up(self) -> None:
        pass

    def generate(self, request: GenerationRequest, images: list[Image.Image],
                 progress: Callable[[int, int], None], should_stop: Callable[[], bool] | None = None,
                 ) -> GenerationResult:
        return GenerationResult(frames=[Image.new("RGB", (request.width, request.height))], is_video=False,
                                model="flagger", seconds=0.0, flagged=True)


async def test_flagged_results_need_an_nsfw_channel(rig: Rig, mod_settings: Settings) -> None:
    from workers.settings import build_worker

    gated = ChatContext(channel_id="after-dark", nsfw_allowed=True)
    await rig.service.handle(person("maud"), "/mod nsfw on",
                             ctx=ChatContext(is_moderator=True, channel_id="after-dark", nsfw_allowed=True))
    w = build_worker(mod_settings, warm=False, pipelines=FlaggingPipelines(), handle_signals=False)  # type: ignore[arg-type]
    task = asyncio.create_task(w.async_run())
    try:
        plain = await rig.service.handle(person("bob"), "/imagine a beach", ctx=ChatContext(channel_id="general"))
        allowed = await rig.service.handle(person("bob"), "/imagine a beach", ctx=gated)
        assert plain.job_id and allowed.job_id
        refused = await wait_for(lambda: rig.service.queue.load_reply(str(plain.job_id)), timeout=30)
        delivered = await wait_for(lambda: rig.service.queue.load_reply(str(allowed.job_id)), timeout=30)
        assert refused.error == NSFW_FLAGGED_TEXT and not refused.media
        assert delivered.error is None and len(delivered.media) == 1
    finally:
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_a_reroll_is_judged_where_and_when_it_is_pressed(rig: Rig, mod_settings: Settings) -> None:
    """The NSFW decision travels with each job: a reroll of an allowed job, pressed after the channel's
    switch went off, is judged afresh and its flagged result refused."""
    from workers.settings import build_worker

    gated = ChatContext(channel_id="after-dark", nsfw_allowed=True)
    moderator = ChatContext(is_moderator=True, channel_id="after-dark", nsfw_allowed=True)
    await rig.service.handle(person("maud"), "/mod nsfw on", ctx=moderator)
    w = build_worker(mod_settings, warm=False, pipelines=FlaggingPipelines(), handle_signals=False)  # type: ignore[arg-type]
    task = asyncio.create_task(w.async_run())
    try:
        allowed = await rig.service.handle(person("bob"), "/imagine a beach", ctx=gated)
        assert allowed.request is not None and allowed.request.nsfw_allowed
        delivered = await wait_for(lambda: rig.service.queue.load_reply(str(allowed.job_id)), timeout=30)
        assert delivered.error is None
        await rig.service.handle(person("maud"), "/mod nsfw off", ctx=moderator)
        again = await rig.service.action(person("bob"), gated, button_data("reroll", str(allowed.job_id)))
        assert again.ok and again.request is not None and not again.request.nsfw_allowed
        refused = await wait_for(lambda: rig.service.queue.load_reply(str(again.job_id)), timeout=30)
        assert refused.error == NSFW_FLAGGED_TEXT and not refused.media
    finally:
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
