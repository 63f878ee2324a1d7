# ruff: noqa: F811
# (test parameters are named after the adapter fixtures imported below)
"""Redis is a trust boundary: a crafted pickle written into a queued job's arq record is refused, not run.

Driven through the Telegram fake: a member queues /imagine, an attacker with write access to Redis swaps the
job's arq record for a pickle whose `__reduce__` plants a marker file, then a real worker starts.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job, serialize_job

from bots.telegram.app import TelegramBot
from core.generation.pipeline import PipelineSet
from core.queue import job_codec
from core.queue.jobs import JOB_FUNCTION
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import running_worker, wait_for
from tests.telegram.conftest import ALICE, answer_to, api, bot, queue_job, settings, until  # noqa: F401
from tests.telegram.fake_api import FakeBotAPI


def _plant_marker(path: str) -> None:
    Path(path).write_text("this ran on the worker")


class _Exploit:
    """What an attacker writes: unpickling it calls `_plant_marker` (it could as well be os.system)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (_plant_marker, (str(self.marker),))


async def _arq_done_with(service: Reelsmith, job_id: str) -> bool:
    """arq has dropped the job: no record left and no longer queued (old and new code alike)."""
    gone = not await service.redis.exists(job_key_prefix + job_id)
    return gone and await service.redis.zscore(service.settings.queue_name, job_id) is None


async def test_crafted_pickle_in_the_queue_is_refused_and_the_worker_serves_on(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, settings: Settings,
        pipelines: PipelineSet, tmp_path: Path) -> None:
    _msg, status, request = await queue_job(api, service, "/imagine a red fox")
    marker = tmp_path / "pwned"
    await service.redis.set(job_key_prefix + request.job_id, pickle.dumps(_Exploit(marker)), keepttl=True)

    async with running_worker(settings, pipelines):
        await wait_for(lambda: _arq_done_with(service, request.job_id), timeout=30)
        assert not marker.exists(), "the worker unpickled the queue entry and ran the attacker's code"

        # The member is told, in the status message, and nothing is charged.
        edits = await until(lambda: [c for c in api.sent("editMessageText")
                                     if c.params.get("message_id") == str(status.result["message_id"])
                                     and "could not be read" in c.params.get("text", "")])
        assert "Nothing was charged" in edits[0].params["text"]
        quota = await answer_to(api, api.message(ALICE, ALICE, "/quota"))
        assert "Jobs in flight: 0 of" in quota.params["text"], quota.params["text"]

        # The same worker keeps serving: the next legit job renders and is delivered.
        _msg2, _status2, second = await queue_job(api, service, "/imagine a blue fox")
        photos = await until(lambda: [c for c in api.sent("sendPhoto") if second.job_id in c.params["caption"]],
                             timeout=60)
        assert photos[0].params["caption"].startswith("\U0001f916 AI-generated")
        # Its arq result is JSON too, and arq's own Job API still reads it.
        raw = await wait_for(lambda: service.redis.get(result_key_prefix + second.job_id))
        assert json.loads(raw)["s"] is True
        info = await Job(second.job_id, service.redis, settings.queue_name,
                         _deserializer=service.redis.job_deserializer).result_info()
        assert info is not None and info.success and info.result["media"] == 1
    assert not marker.exists()


async def test_a_json_entry_that_is_not_a_request_is_answered_and_never_retried(
        api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, settings: Settings,
        pipelines: PipelineSet) -> None:
    _msg, status, request = await queue_job(api, service, "/imagine a green fox")
    forged = serialize_job(JOB_FUNCTION, ({"prompt": ["not", "a", "request"]},), {}, None, 0,
                           serializer=job_codec.dumps)
    await service.redis.set(job_key_prefix + request.job_id, forged, keepttl=True)

    async with running_worker(settings, pipelines) as worker:
        edits = await until(lambda: [c for c in api.sent("editMessageText")
                                     if c.params.get("message_id") == str(status.result["message_id"])
                                     and "could not be read" in c.params.get("text", "")])
        assert "Nothing was charged" in edits[0].params["text"]
        await wait_for(lambda: _arq_done_with(service, request.job_id), timeout=30)
        assert worker.jobs_retried == 0
    assert await service.queue.state(request.job_id) == "failed"
