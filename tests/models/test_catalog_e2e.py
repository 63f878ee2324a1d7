"""The catalog end to end: named models from a models file (tiny twins as sources), chosen per task, routed to
the workers that hold them, batched on the model they name. The reported defect: a Wan 2.1 text-to-video
checkpoint alone cannot animate (refused before queueing, tests/model_access); with an image-to-video entry
added, /animate works."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import av
from aiohttp.test_utils import TestClient

from core.generation.pipeline import PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import running_worker, wait_for
from tests.media.helpers import png, result_bytes
from tests.playground import finished, send

FRAMES = 9
MODELS = """
[defaults]
text-to-image = "stills"

[[model]]
name = "stills"
source = "tiny:image"
family = "sd"
title = "Stills (tiny SD)"

[[model]]
name = "wan-t2v"
source = "twin:wan-2.1-t2v"
family = "wan"
kind = "t2v"
long_side = 32
frames = 9

[[model]]
name = "wan-i2v"
source = "twin:wan-2.1-i2v"
family = "wan"
kind = "i2v"
long_side = 32
frames = 9
cost = 2
"""


def _with_models(settings: Settings, tmp_path: Path, **extra: Any) -> Settings:
    path = tmp_path / "models.toml"
    path.write_text(MODELS)
    settings.models_file = path  # the service reads the catalog per request: the playground sees it too
    return settings.model_copy(update=extra)


async def _frames(client: TestClient[Any, Any], chat: str, job_id: str, model: str) -> int:
    msg = await finished(client, chat, job_id)
    assert model in msg["text"], msg["text"]  # the caption names the model that made it
    data, mime = await result_bytes(client, msg)
    assert mime == "video/mp4"
    with av.open(io.BytesIO(data)) as c:
        return sum(1 for _ in c.decode(video=0))


async def _ran_on(service: Reelsmith, job_id: str) -> str | None:
    if await service.queue.load_reply(job_id) is None:
        return None
    raw = await service.redis.hget(service.queue.record_key(job_id), "worker")
    return raw.decode() if raw else None


async def test_wan_t2v_and_i2v_each_serve_their_task(web_client: TestClient[Any, Any], service: Reelsmith,
                                                     settings: Settings, tmp_path: Path) -> None:
    settings = _with_models(settings, tmp_path)
    async with running_worker(settings, PipelineSet(settings)):
        video = await send(web_client, "wan", f"/video waves roll in --frames {FRAMES} --steps 1")
        animate = await send(web_client, "wan", f"/animate waves roll in --frames {FRAMES} --steps 1",
                             [("still.png", png(size=(32, 32)))])
        assert video["ok"] and animate["ok"], (video, animate)
        requests = [await service.queue.load_request(s["job_id"]) for s in (video, animate)]
        assert [(r.model, r.cost_factor) for r in requests if r] == [("wan-t2v", 1.0), ("wan-i2v", 2.0)]
        assert await _frames(web_client, "wan", video["job_id"], "wan-t2v") == FRAMES
        assert await _frames(web_client, "wan", animate["job_id"], "wan-i2v") == FRAMES


async def test_jobs_route_to_the_worker_holding_their_model(web_client: TestClient[Any, Any], service: Reelsmith,
                                                            settings: Settings, tmp_path: Path) -> None:
    t2v = _with_models(settings, tmp_path, worker_name="t2v-box", worker_models=["wan-t2v"], route_grace_s=600)
    i2v = t2v.model_copy(update={"worker_name": "i2v-box", "worker_models": ["wan-i2v"]})
    t2v_pipes, i2v_pipes = PipelineSet(t2v), PipelineSet(i2v)
    async with running_worker(t2v, t2v_pipes) as tw, running_worker(i2v, i2v_pipes) as iw:
        jobs = []
        for i in range(2):
            jobs.append(("t2v-box", await send(web_client, f"r{i}", f"/video tide {i} --steps 1")))
            jobs.append(("i2v-box", await send(web_client, f"r{i}", f"/animate tide {i} --steps 1",
                                               [("s.png", png(size=(32, 32)))])))
        for where, sent in jobs:
            assert sent["ok"], sent["message"]["text"]
            assert await wait_for(lambda j=sent["job_id"]: _ran_on(service, j), timeout=60) == where
        assert tw.skipped_for_routing + iw.skipped_for_routing > 0  # each saw and left the other's jobs
    # Each worker loaded only the model it holds.
    assert (t2v_pipes.warm_models, i2v_pipes.warm_models) == (["wan-t2v"], ["wan-i2v"])


async def test_video_jobs_on_one_model_share_a_call(web_client: TestClient[Any, Any], settings: Settings,
                                                    tmp_path: Path) -> None:
    settings = _with_models(settings, tmp_path, batch_window_s=0.3)
    async with running_worker(settings, PipelineSet(settings)) as worker:
        chats = [f"bv{i}" for i in range(2)]
        sent = await asyncio.gather(*(send(web_client, chat, f"/video tide {i} --steps 1 --seed {i}")
                                      for i, chat in enumerate(chats)))
        assert all(s["ok"] for s in sent), sent
        for chat, s in zip(chats, sent, strict=True):
            assert await _frames(web_client, chat, s["job_id"], "wan-t2v") == FRAMES
        runtime = worker.ctx["runtime"]
        assert sum(runtime.batcher.batches) == 2 and max(runtime.batcher.batches) == 2, runtime.batcher.batches
