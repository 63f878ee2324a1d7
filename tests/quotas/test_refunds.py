"""Refunds: a job that fails, is cancelled or is refused by a safety check gives its credits back, once."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.context import ChatContext
from core.contract import GuardSpec
from core.errors import Refusal
from core.generation.pipeline import PipelineSet
from core.quotas.book import QuotaBook
from core.quotas.guard import refund_finalizer
from core.service import Attachment
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, Requester
from tests.conftest import running_worker, wait_for
from tests.quotas.conftest import MakeService

ALICE = Requester(platform="discord", user_id="10", chat_id="guild1")


def _reply(request: GenerationRequest, error: str | None) -> GenerationReply:
    return GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                           prompt=request.prompt, seed=request.seed, error=error)


async def test_failed_job_on_a_real_worker_is_refunded_and_success_is_charged(
        service: Reelsmith, settings: Settings, pipelines: PipelineSet) -> None:
    book = QuotaBook(service.redis, settings)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buf, format="PNG")
    failing = await service.handle(ALICE, "/edit make it snow", [Attachment(buf.getvalue(), "a.png")])
    fine = await service.handle(ALICE, "/imagine a fox")
    assert failing.ok and fine.ok and failing.request and fine.job_id
    await service.redis.delete(*[settings.key("blob", r.blob_key) for r in failing.request.references])
    assert (await book.usage("discord", "10")).used == 2
    async with running_worker(settings, pipelines):
        bad = await wait_for(lambda: service.queue.load_reply(failing.job_id or ""), timeout=60)
        good = await wait_for(lambda: service.queue.load_reply(fine.job_id or ""), timeout=60)
        assert bad.error and "expired" in bad.error and good.error is None

        async def released() -> list[str | None] | None:
            states = [await book.reservation_state(j) for j in (failing.job_id or "", fine.job_id or "")]
            return None if "held" in states else states

        assert await wait_for(released, timeout=30) == ["refunded", "settled"]
    usage = await book.usage("discord", "10")
    assert (usage.used, usage.in_flight) == (1, 0)


@pytest.mark.parametrize("error", ["Cancelled by a moderator.", "Refused by the safety check: not allowed here."])
async def test_cancel_and_safety_refusal_refund_exactly_once(make_service: MakeService, error: str) -> None:
    service, book = await make_service(quota_credits=5, quota_max_in_flight=10)
    out = await service.handle(ALICE, "/video a wave")
    assert out.ok and out.request is not None
    assert (await book.usage("discord", "10")).remaining == 0
    finalize = refund_finalizer(service.redis, service.settings)
    for _ in range(3):  # a retried finalizer, a second worker, a moderator's direct refund
        await finalize(out.request, _reply(out.request, error))
    assert not await book.refund(out.request.job_id, ALICE, "again")
    assert not await book.settle(out.request.job_id, ALICE)  # a refunded job cannot be charged again
    usage = await book.usage("discord", "10")
    assert (usage.used, usage.remaining, usage.in_flight) == (0, 5, 0)
    assert (await service.handle(ALICE, "/video a wave")).ok
    assert not (await service.handle(ALICE, "/imagine more")).ok  # refunded once: 5 back, not 10


async def test_refund_after_a_settle_does_nothing(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=3)
    out = await service.handle(ALICE, "/imagine a")
    assert out.request is not None
    finalize = refund_finalizer(service.redis, service.settings)
    await finalize(out.request, _reply(out.request, None))
    await finalize(out.request, _reply(out.request, "late failure report"))
    assert (await book.usage("discord", "10")).used == 1


class _SafetyGuard:
    """Stands for a guard that refuses after the quota guard took its credits."""

    def __init__(self) -> None:
        self.undone: list[str] = []

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        raise Refusal("That prompt is not allowed here.", reason="safety")

    async def undo(self, request: GenerationRequest) -> None:
        self.undone.append(request.job_id)


async def test_a_later_refusal_or_failed_queueing_gives_credits_back(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=2)
    service.guards.append(GuardSpec(_SafetyGuard(), order=1000))
    out = await service.handle(ALICE, "/imagine something")
    assert not out.ok and "not allowed" in out.text
    assert (await book.usage("discord", "10")).used == 0
    service.guards.pop()

    async def broken_enqueue(request: GenerationRequest) -> int:
        raise ConnectionError("redis went away")

    service.queue.enqueue = broken_enqueue  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await service.handle(ALICE, "/imagine something")
    usage = await book.usage("discord", "10")
    assert (usage.used, usage.in_flight) == (0, 0)

