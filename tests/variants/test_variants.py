"""Several images per prompt: the grammar, the price, the chat default, one pipeline call for a job's n images,
the playground's grid with a label per image, provenance per image, and refusals that cost nothing."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.context import ChatContext
from core.errors import CommandError
from core.generation.pipeline import PipelineSet
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.quotas.book import QuotaBook
from core.quotas.costs import job_cost
from core.service import parse_command
from core.service.facade import Reelsmith
from core.types import GenerationRequest, JobKind, Requester
from core.variants.provenance import image_key
from tests.conftest import wait_for
from tests.playground import finished, send

ALICE = Requester(platform="web", user_id="alice", chat_id="room1")


def test_n_is_a_flag_of_imagine_and_edit_only() -> None:
    assert parse_command("/imagine a fox --n 4").n_images == 4
    assert parse_command("/edit a fox --n 2").n_images == 2
    assert parse_command("/imagine a fox").n_images is None
    with pytest.raises(CommandError, match="between 1 and 4"):
        parse_command("/imagine a fox --n 5")
    for command in ("/video waves --n 2", "/animate it --n 2", "/meme a | b | c --n 2", "/upscale --n 2"):
        with pytest.raises(CommandError, match="only works with /imagine and /edit"):
            parse_command(command)


def test_n_images_cost_n_times_one(service: Reelsmith) -> None:
    one = GenerationRequest(requester=ALICE, kind=JobKind.IMAGE, prompt="p", width=64, height=64, seed=1, steps=2)
    four = one.model_copy(update={"n_images": 4})
    assert job_cost(four, service.settings) == 4 * job_cost(one, service.settings)


async def test_refusals_cost_nothing(service: Reelsmith) -> None:
    book = QuotaBook(service.redis, service.settings)
    for text, expected in (("/imagine a fox --n 5", "--n must be between 1 and 4"),
                           ("/video waves --n 2", "--n (several images) only works with /imagine and /edit")):
        out = await service.handle(ALICE, text)
        assert not out.ok and expected in out.text and out.job_id is None
    assert (await book.usage("web", "alice")).used == 0
    assert await service.redis.zcard(service.settings.queue_name) == 0


async def test_moderators_set_the_chat_default(service: Reelsmith) -> None:
    refused = await service.handle(ALICE, "/images 3", ctx=ChatContext())
    assert not refused.ok and "moderators" in refused.text
    assert (await service.handle(ALICE, "/images 3", ctx=ChatContext(is_moderator=True))).ok
    assert "make 3 images" in (await service.handle(ALICE, "/images")).text
    queued = await service.handle(ALICE, "/imagine a fox")
    assert queued.request is not None and queued.request.n_images == 3
    typed = await service.handle(ALICE, "/imagine a fox --n 1")
    assert typed.request is not None and typed.request.n_images == 1  # --n wins over the default
    video = await service.handle(ALICE.model_copy(update={"user_id": "bob"}), "/video waves --frames 9")
    assert video.request is not None and video.request.n_images == 1
    bad = await service.handle(ALICE, "/images 9", ctx=ChatContext(is_moderator=True))
    assert not bad.ok and "from 1 to 4" in bad.text


def test_one_pipeline_call_renders_a_jobs_images(pipelines: PipelineSet, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = pipelines.get(JobKind.IMAGE)
    calls: list[int] = []
    original = type(pipe).__call__

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(kwargs["prompt"]))
        return original(self, *args, **kwargs)
    monkeypatch.setattr(type(pipe), "__call__", counting)
    request = GenerationRequest(requester=ALICE, kind=JobKind.IMAGE, prompt="a fox", width=64, height=64, seed=9,
                                steps=1, n_images=3)
    result = pipelines.generate(request, [])
    assert calls == [3] and len(result.frames) == 3
    # Each image is its own seed: image 2 is the lone render of seed 10.
    alone = pipelines.generate(request.model_copy(update={"n_images": 1, "seed": 10}), [])
    assert calls == [3, 1]
    def diff(a: Image.Image, b: Image.Image) -> int:
        return int(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max())
    assert diff(result.frames[1], alone.frames[0]) <= 2  # batched float maths may round a level apart
    assert diff(result.frames[0], result.frames[1]) > 2


async def test_playground_grid_each_image_labelled(web_client: TestClient[Any, Any], worker: Any,
                                                   service: Reelsmith) -> None:
    sent = await send(web_client, "chatN", "/imagine a red fox --n 4 --seed 11")
    assert sent["ok"], sent
    msg = await finished(web_client, "chatN", sent["job_id"])
    assert not msg["error"], msg["text"]
    assert len(msg["media"]) == 4
    runtime = worker.ctx["runtime"]
    assert runtime.batcher.batches[-1] == 1  # one job, one batch: its four images in one call
    for i, media in enumerate(msg["media"], start=1):
        assert media["caption"].startswith("\U0001f916 AI-generated with Reelsmith")
        assert media["caption"].endswith(f"image {i} of 4, seed {10 + i}")
        img = Image.open(io.BytesIO(await (await web_client.get(media["url"])).read()))
        assert img.size == (64, 64) and DIGITAL_SOURCE_TYPE in img.info.get("XML:com.adobe.xmp", "")
        assert sent["job_id"] in img.info.get("XML:com.adobe.xmp", "")
    labels = [b["label"] for b in msg["buttons"]]
    assert [f"U{i}" for i in range(1, 5)] + [f"V{i}" for i in range(1, 5)] + [f"S{i}" for i in range(1, 5)] == \
        [label for label in labels if label[0] in "UVS"]

    async def recorded() -> Any:
        return await service.redis.hgetall(image_key(service.settings, sent["job_id"], 4)) or None
    record = await wait_for(recorded, timeout=30)
    assert record[b"seed"] == b"14" and record[b"index"] == b"4"
