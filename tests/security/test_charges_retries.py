"""A failure that would repeat on every try (a tensor shape mismatch) is answered once, not retried
`max_tries` times: the pipeline runs once, the member gets one reply, and is refunded (the service's fault)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.generation.pipeline import GenerationResult, PipelineSet
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest
from tests.conftest import running_worker, wait_for
from tests.security.charges_helpers import job_messages, job_reply, usage

SHAPE_ERROR = "mat1 and mat2 shapes cannot be multiplied (2x77 and 768x320)"


class MismatchedModel(PipelineSet):
    """The warm tiny pipelines behind a model whose text encoder does not fit its denoiser."""

    def __init__(self, settings: Settings, warm: PipelineSet) -> None:
        super().__init__(settings)
        self.share_warm(warm)
        self.calls = 0

    def generate(self, request: GenerationRequest, *args: Any, **kwargs: Any) -> GenerationResult:
        self.calls += 1
        raise RuntimeError(SHAPE_ERROR)


async def test_repeatable_failure_is_answered_once_and_refunded(
        web_client: TestClient[Any, Any], service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    assert settings.max_tries == 3
    broken = MismatchedModel(settings, pipelines)
    async with running_worker(settings, broken):
        message = await job_reply(web_client, "gus", "/imagine a fox", timeout=30)
        job_id = message["job_id"]

        async def released() -> bool:  # arq is done with the job: no try is left to run
            return not await service.redis.exists(f"arq:job:{job_id}", f"arq:in-progress:{job_id}",
                                                  f"arq:retry:{job_id}")

        await wait_for(released, timeout=30)
    assert broken.calls == 1
    assert message["error"] and "not retried" in message["text"] and "Nothing was charged" in message["text"]
    assert SHAPE_ERROR not in message["text"]  # internals stay in the log
    assert len(await job_messages(web_client, "gus", job_id)) == 1
    credits = await usage(service, "gus")
    assert (credits.used, credits.in_flight) == (0, 0)
