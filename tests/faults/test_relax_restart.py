"""A relax-lane job waits through restarts: Redis (AOF) and workers come and go, the job runs once nothing
else waits, and its member gets the reply."""

from __future__ import annotations

from arq.constants import job_key_prefix

from core.generation.pipeline import PipelineSet
from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.quotas.relax import RelaxLane
from core.service.features import build_service
from core.service.texts import queued_text
from core.settings import Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for

RELAX_QUEUED_TEXT = queued_text(0, relax=True)  # the English text (the default locale)

ALICE = Requester(platform="web", user_id="1", chat_id="room")


async def test_relax_job_survives_a_redis_restart_and_runs(
        own_redis: EmbeddedRedis, fsettings: Settings, pipelines: PipelineSet) -> None:
    s = fsettings.model_copy(update={"quota_credits": 0})
    redis = await connect(s)
    service = build_service(s, redis)
    await RelaxLane(redis, s).set_enabled("web", "room", True)
    out = await service.handle(ALICE, "/imagine a quiet harbour")
    assert out.ok and out.text == RELAX_QUEUED_TEXT and out.job_id

    own_redis.stop()
    own_redis.start()  # no worker was running: the entry must come back from the AOF

    async def still_queued() -> bool:
        try:
            return bool(await redis.exists(job_key_prefix + (out.job_id or ""))) and (
                await redis.zscore(s.queue_name, out.job_id or "") is not None)
        except OSError:  # the client is still reconnecting
            return False

    assert await wait_for(still_queued, timeout=30)
    assert await service.queue.state(out.job_id) == "queued"
    async with running_worker(s, pipelines):
        reply = await wait_for(lambda: service.queue.load_reply(out.job_id or ""), timeout=120)
    assert reply.error is None and reply.media
    await redis.aclose()
