"""Routing by model family: jobs go to workers that keep their model warm; nobody waits forever."""

from __future__ import annotations

from typing import Any

from core.generation.pipeline import PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for


async def _ran_on(service: Reelsmith, job_id: str) -> str | None:
    reply = await service.queue.load_reply(job_id)
    if reply is None:
        return None
    raw = await service.redis.hget(service.queue.record_key(job_id), "worker")
    return raw.decode() if raw else None


def _worker(settings: Settings, name: str, families: list[str], **extra: Any) -> Settings:
    return settings.model_copy(update={"worker_name": name, "worker_families": families, **extra})


async def test_jobs_go_to_the_worker_holding_their_family(settings: Settings, service: Reelsmith,
                                                          pipelines: PipelineSet) -> None:
    images = _worker(settings, "images-box", ["image"], route_grace_s=600)
    videos = _worker(settings, "videos-box", ["video"], route_grace_s=600)
    async with running_worker(images, pipelines) as iw, running_worker(videos, pipelines) as vw:
        jobs = []
        for i in range(3):
            for command in (f"/imagine a fox {i}", f"/video a fox running {i}"):
                out = await service.handle(Requester(platform="web", user_id=f"u{i}{command[1]}", chat_id="c"),
                                           command)
                assert out.ok and out.job_id, out.text
                jobs.append((command, out.job_id))
        for command, job_id in jobs:
            where = await wait_for(lambda j=job_id: _ran_on(service, j), timeout=60)
            assert where == ("videos-box" if command.startswith("/video") else "images-box"), (command, where)
        assert iw.skipped_for_routing + vw.skipped_for_routing > 0  # each saw and left the other's jobs


async def test_a_family_nobody_holds_is_taken_after_the_grace(settings: Settings, service: Reelsmith,
                                                              pipelines: PipelineSet) -> None:
    images = _worker(settings, "images-only", ["image"], route_grace_s=1.0)
    async with running_worker(images, pipelines) as iw:
        out = await service.handle(Requester(platform="web", user_id="v", chat_id="c"), "/video a wave")
        assert out.job_id
        where = await wait_for(lambda: _ran_on(service, out.job_id or ""), timeout=60)
        assert where == "images-only" and iw.skipped_for_routing > 0
