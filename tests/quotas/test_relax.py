"""The relax lane: out of credits in a chat that turned it on, a member is queued free, one job at a time, and
the job runs only once no other job waits (real Redis, the real worker)."""

from __future__ import annotations

import json

from arq.constants import job_key_prefix

from core.context import ChatContext
from core.contract import Outcome
from core.generation.pipeline import PipelineSet
from core.queue.connection import connect
from core.queue.fairness import RELAX_BASE, RELAX_TIER, VIRTUAL_CEILING
from core.queue.replies import ReplyBus
from core.quotas.book import QuotaBook
from core.quotas.relax import RELAX_BUSY_TEXT, RELAX_EXPIRED_TEXT, RELAX_QUOTA_NOTE, RelaxLane
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.service.texts import queued_text
from core.settings import Settings
from core.types import Requester
from tests.conftest import running_worker, wait_for
from tests.quotas.conftest import MakeService

RELAX_QUEUED_TEXT = queued_text(0, relax=True)  # the English text (the default locale)

ALICE = Requester(platform="telegram", user_id="1", chat_id="-100")
BOB = Requester(platform="telegram", user_id="2", chat_id="-100")


async def _relax_chat(service: Reelsmith, on: bool = True) -> None:
    await RelaxLane(service.redis, service.settings).set_enabled("telegram", "-100", on)


async def _events(service: Reelsmith) -> list[tuple[str, str, str]]:
    """(type, job id, state) of every entry on the Telegram reply stream, in the order they were published."""
    entries = await service.redis.xrange(ReplyBus(service.redis, service.settings).stream("telegram"))
    out = []
    for _id, fields in entries:
        data = json.loads(fields[b"data"])
        out.append((fields[b"type"].decode(), data["job_id"], data.get("state", "")))
    return out


async def test_out_of_credits_in_a_relax_chat_is_queued_free_and_answered(
        make_service: MakeService, pipelines: PipelineSet) -> None:
    service, book = await make_service(quota_credits=1)
    await _relax_chat(service)
    paid = await service.handle(ALICE, "/imagine a fox")
    assert paid.ok and paid.request is not None and paid.request.tier == "default"
    relaxed = await service.handle(ALICE, "/imagine a fox at dusk")
    assert relaxed.ok and relaxed.text == RELAX_QUEUED_TEXT and relaxed.request is not None
    assert relaxed.request.tier == RELAX_TIER
    score = await service.redis.zscore(service.settings.queue_name, relaxed.job_id or "")
    assert score is not None and RELAX_BASE < score < VIRTUAL_CEILING  # after every other tier's job
    usage = await book.usage("telegram", "1")
    assert (usage.used, usage.remaining) == (1, 0)  # the relax job costs nothing
    # One relax job in flight per member: the next is refused, saying why and what to do.
    busy = await service.handle(ALICE, "/imagine a third fox")
    assert not busy.ok and RELAX_BUSY_TEXT in busy.text
    # The entry outlives arq's one day: it waits for idle GPUs (relax_job_ttl_s) rather than lapsing.
    ttl_ms = await service.redis.pttl(job_key_prefix + (relaxed.job_id or ""))
    assert ttl_ms > 2 * 24 * 3600 * 1000

    async with running_worker(service.settings, pipelines):
        reply = await wait_for(lambda: service.queue.load_reply(relaxed.job_id or ""), timeout=90)
        assert reply.error is None and reply.media
        # Its slot is free once it has run: the member may queue their next relax job.
        again = await wait_for(lambda: _queued_relax(service), timeout=30)
        assert again.text == RELAX_QUEUED_TEXT
    assert (await book.usage("telegram", "1")).used == 1


async def _queued_relax(service: Reelsmith) -> Outcome | None:
    out = await service.handle(ALICE, "/imagine one more fox")
    return out if out.ok else None


async def test_out_of_credits_where_the_lane_is_off_is_refused_as_before(make_service: MakeService) -> None:
    service, _ = await make_service(quota_credits=1)
    assert (await service.handle(ALICE, "/imagine a")).ok
    depth = await service.queue.depth()
    refused = await service.handle(ALICE, "/imagine b")
    assert not refused.ok and "credits" in refused.text and RELAX_QUEUED_TEXT not in refused.text
    await _relax_chat(service, on=False)  # turned off here explicitly: that holds with the default on too
    service.settings.relax_lane_default = True
    assert not (await service.handle(ALICE, "/imagine c")).ok
    assert await service.queue.depth() == depth
    # Another chat, where nobody chose: the default applies.
    elsewhere = Requester(platform="telegram", user_id="1", chat_id="-200")
    assert (await service.handle(elsewhere, "/imagine d")).text == RELAX_QUEUED_TEXT
    service.settings.fair_queueing = False  # no band to queue it behind everyone else: refused as before
    assert not (await service.handle(Requester(platform="telegram", user_id="1", chat_id="-400"), "/imagine x")).ok
    service.settings.fair_queueing = True
    # The owners' switch wins over every chat's choice.
    service.settings.relax_lane_allowed = False
    await _relax_chat(service)
    assert (await service.handle(BOB, "/imagine e")).ok  # Bob's own credit
    out_of_credits = await service.handle(BOB, "/imagine f")
    assert not out_of_credits.ok and RELAX_QUEUED_TEXT not in out_of_credits.text
    assert await service.queue.depth() == depth + 2


async def test_quota_tells_members_of_the_lane_where_it_is_on(make_service: MakeService) -> None:
    service, _ = await make_service(quota_credits=1)
    assert RELAX_QUOTA_NOTE not in (await service.handle(ALICE, "/quota")).text
    await _relax_chat(service)
    assert RELAX_QUOTA_NOTE in (await service.handle(ALICE, "/quota")).text


async def test_a_chat_limit_for_the_member_still_refuses(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=10)
    await _relax_chat(service)
    await book.set_member_limit("telegram", "-100", "1", 0)  # a moderator's limit for this member: not credits
    out = await service.handle(ALICE, "/imagine a")
    assert not out.ok and RELAX_QUEUED_TEXT not in out.text


async def test_relax_job_waits_until_no_other_job_waits(make_service: MakeService, pipelines: PipelineSet) -> None:
    # Four worker slots: without the lane's rule the relax job would start beside the others.
    service, _ = await make_service(quota_credits=0, worker_max_jobs=4, batch_window_s=0.0)
    await _relax_chat(service)
    relaxed = await service.handle(ALICE, "/imagine queued first, runs last")
    assert relaxed.ok and relaxed.text == RELAX_QUEUED_TEXT
    service.settings.quota_enabled = False  # Bob's jobs are ordinary ones
    normal = [await service.handle(BOB, f"/imagine job {i}") for i in range(3)]
    assert all(o.ok and o.job_id for o in normal)
    ids = {o.job_id for o in normal}
    async with running_worker(service.settings, pipelines):
        await wait_for(lambda: service.queue.load_reply(relaxed.job_id or ""), timeout=120)
    events = await _events(service)
    relax_start = next(i for i, (t, job, _s) in enumerate(events) if job == relaxed.job_id)
    normal_replies = [i for i, (t, job, _s) in enumerate(events) if t == "reply" and job in ids]
    assert len(normal_replies) == 3
    # The relax job's first event (it started) comes after every ordinary job's final reply.
    assert relax_start > max(normal_replies), events


async def test_enqueue_in_the_relax_band_leaves_the_main_line_alone(make_service: MakeService) -> None:
    service, _ = await make_service(quota_credits=0)
    await _relax_chat(service)
    assert (await service.handle(ALICE, "/imagine relax")).ok
    service.settings.quota_enabled = False
    first = await service.handle(BOB, "/imagine one")
    second = await service.handle(BOB, "/imagine two")
    scores = [await service.redis.zscore(service.settings.queue_name, o.job_id or "") for o in (first, second)]
    # Bob's tags start at the main line's clock, not after the relax job's score.
    assert all(s is not None and s < RELAX_BASE for s in scores) and first.position == 1 and second.position == 2


async def test_queue_position_and_book_unchanged_for_relax(make_service: MakeService) -> None:
    service, book = await make_service(quota_credits=0)
    await _relax_chat(service)
    out = await service.handle(ALICE, "/imagine relax")
    assert out.ok
    assert (await book.usage("telegram", "1")).in_flight == 0
    assert await QuotaBook(service.redis, service.settings).reservation_state(out.job_id or "") is None


async def test_an_expired_relax_entry_is_answered_not_dropped(
        make_service: MakeService, pipelines: PipelineSet) -> None:
    service, _ = await make_service(quota_credits=0)
    await _relax_chat(service)
    out = await service.handle(ALICE, "/imagine waited too long")
    assert out.ok and out.job_id
    # What relax_job_ttl_s does to an entry that never found idle GPUs: arq's job data is gone.
    await service.redis.delete(job_key_prefix + out.job_id)
    async with running_worker(service.settings, pipelines):
        reply = await wait_for(lambda: service.queue.load_reply(out.job_id or ""), timeout=60)
        assert reply.error == RELAX_EXPIRED_TEXT
        # The member's relax slot is free again.
        assert (await wait_for(lambda: _queued_relax(service), timeout=30)).text == RELAX_QUEUED_TEXT


async def test_mod_relax_turns_the_lane_on_and_off_for_this_chat_only(settings: Settings) -> None:
    s = settings.model_copy(update={"quota_credits": 0})
    redis = await connect(s)
    service = build_service(s, redis)
    mod_ctx = ChatContext(is_moderator=True)
    denied = await service.handle(BOB, "/mod relax on")
    assert not denied.ok and "moderators" in denied.text
    assert not (await service.handle(ALICE, "/imagine a")).ok
    on = await service.handle(BOB, "/mod relax on", ctx=mod_ctx)
    assert on.ok and "Relax lane on" in on.text
    assert "relax lane is on" in (await service.handle(BOB, "/mod status", ctx=mod_ctx)).text
    assert (await service.handle(ALICE, "/imagine a")).text == RELAX_QUEUED_TEXT
    other_chat = Requester(platform="telegram", user_id="1", chat_id="-300")
    assert not (await service.handle(other_chat, "/imagine a")).ok  # another chat's choice is its own
    assert (await service.handle(BOB, "/mod relax off", ctx=mod_ctx)).ok
    assert not (await service.handle(BOB, "/imagine b")).ok
    s.relax_lane_allowed = False
    refused = await service.handle(BOB, "/mod relax on", ctx=mod_ctx)
    assert not refused.ok and "REELSMITH_RELAX_LANE_ALLOWED" in refused.text
    await redis.aclose()
