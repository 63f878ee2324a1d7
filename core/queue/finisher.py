"""The one way a job ends: its final reply recorded and published once, its state set, its finalizers run once.

Workers finish every job through it (done, failed, timed out, cancelled while running), and so does
`/mod cancel` for a job it takes off the queue: the same publish-once marker and the same run-once claim on
the finalizers (refunds, provenance, metrics) hold whoever ends the job, however often a worker retries.
"""

from __future__ import annotations

import logging

from arq.connections import ArqRedis

from core.contract import Finalizer
from core.i18n import N_, from_platform, locale_of, translate
from core.queue import fencing
from core.queue.jobs import JobQueue
from core.queue.replies import ReplyBus
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest

log = logging.getLogger(__name__)

CANCELLED_TEXT = N_("This job was cancelled (by its author or a moderator). Nothing was charged.")


def cancelled_text(requester: object) -> str:
    """`CANCELLED_TEXT` in the language of the job's author (whoever cancelled it)."""
    return translate(CANCELLED_TEXT, from_platform(locale_of(requester)))


def is_cancelled(reply: GenerationReply) -> bool:
    """Whether a final reply is the "cancelled" one (it reads in its author's language)."""
    return reply.error in (CANCELLED_TEXT, cancelled_text(reply))


class JobFinisher:
    """Ends jobs for one process. `finalizers` are every feature's, in feature-list order."""

    def __init__(self, redis: ArqRedis, settings: Settings, finalizers: list[Finalizer]) -> None:
        self.redis = redis
        self.settings = settings
        self.queue = JobQueue(redis, settings)
        self.bus = ReplyBus(redis, settings)
        self.fence = fencing.Fence(redis, settings)
        self.finalizers = finalizers

    async def finish(self, request: GenerationRequest, reply: GenerationReply, state: str) -> bool:
        """Record and publish the final reply, then run the finalizers once (refunds, provenance, metrics).

        In a worker's run the reply is fenced (core/queue/fencing.py): a run whose lease passed to a later
        run records nothing, posts nothing and settles nothing. Returns False for such a stale run.
        """
        token = fencing.held(request.job_id)
        if token is None:
            await self.queue.save_reply(reply)
        elif not await self.fence.save_if_current(self.queue.record_key(request.job_id), request.job_id, token,
                                                  "reply", reply.model_dump_json()):
            fencing.dropped_stale(request.job_id, token, "reply")
            return False
        published = await self.bus.publish_fenced(reply, token)
        if published == "stale":  # the lease passed on between the record write and the publish
            fencing.dropped_stale(request.job_id, token or 0, "reply")
            return False
        await self.queue.set_state(request.job_id, state)
        if published == "sent":
            await self.finalize_once(request, reply)
        return True

    async def already_replied(self, job_id: str) -> bool:
        """Whether a final reply was published for the job (by any worker, or by a moderator's cancel)."""
        return await self.bus.already_replied(job_id)

    async def finalize_once(self, request: GenerationRequest, reply: GenerationReply | None = None) -> None:
        """Run the finalizers for an answered job exactly once across tries, workers and bots.

        A short claim guards the run; it becomes permanent when the finalizers are done. A worker that
        dies after publishing leaves an expiring claim, so the job's retry runs them instead.
        """
        marker = self.settings.key("job", request.job_id, "finalized")
        claim_ms = max(1, int(self.settings.job_lease_s * 1000 / 2))
        if not await self.redis.set(marker, "claimed", nx=True, px=claim_ms):
            return
        reply = reply or await self.queue.load_reply(request.job_id)
        if reply is None:  # the record expired: nothing left to settle
            return
        for finalizer in self.finalizers:
            try:
                await finalizer(request, reply)
            except Exception:
                log.exception("finalizer %s failed for job %s", getattr(finalizer, "__name__", finalizer),
                              request.job_id)
        await self.redis.set(marker, "done", ex=self.settings.result_ttl_s)

    def _cancel_marker(self, job_id: str) -> str:
        return self.queue.record_key(job_id) + ":cancelled"

    async def mark_cancelled(self, job_id: str) -> None:
        """A moderator stopped the running job: the worker that aborts it answers with `CANCELLED_TEXT`."""
        await self.redis.set(self._cancel_marker(job_id), "1", ex=self.settings.result_ttl_s)

    async def was_cancelled(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self._cancel_marker(job_id)))
