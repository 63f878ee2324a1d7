"""Moderators' view of the queue: list their chat's (server's) waiting and running jobs, cancel one.

A waiting job is taken off the arq queue atomically (its arq record too, so a worker that was about
to pick it up finds nothing) and answered with a "cancelled" error reply right here, through the same job
finisher a worker uses (so the finalizers, quota refunds among them, run once on it). A running job is
marked cancelled and aborted through arq (the worker needs `allow_abort_jobs`); the worker publishes its reply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix

from core.errors import Refusal
from core.i18n import N_, _, translate
from core.moderation.toolkit import Moderation
from core.queue.connection import as_text
from core.queue.finisher import JobFinisher, cancelled_text
from core.quotas.texts import KIND_NAMES
from core.types import GenerationReply, GenerationRequest, Requester

MAX_LISTED = 500
# One whole line per state, so each language places the state where it belongs; `{kind}` is a job kind's name.
STATE_LINES = {"queued": N_("{job_id} queued {kind} by {user_id}: {prompt}"),
               "running": N_("{job_id} running {kind} by {user_id}: {prompt}")}
OTHER_STATE_LINE = N_("{job_id} {state} {kind} by {user_id}: {prompt}")  # a state the line has no words for

# KEYS: in-progress key, queue, arq job key. Returns 'running', 1 (taken off the queue) or 0 (gone).
_TAKE_QUEUED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'running' end
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 1 then redis.call('DEL', KEYS[3]) end
return removed
"""


@dataclass(frozen=True)
class QueuedJob:
    job_id: str
    user_id: str
    state: str
    kind: str
    prompt: str

    def line(self) -> str:
        prompt = self.prompt if len(self.prompt) <= 60 else self.prompt[:59] + "\u2026"
        kind = translate(KIND_NAMES.get(self.kind, self.kind))
        return _(STATE_LINES.get(self.state, OTHER_STATE_LINE), job_id=self.job_id, state=self.state, kind=kind,
                 user_id=self.user_id, prompt=prompt)


class QueueAdmin:
    def __init__(self, mod: Moderation) -> None:
        self.mod = mod
        self.redis = mod.redis
        self._take = self.redis.register_script(_TAKE_QUEUED)

    async def list(self, platform: str, scope: str) -> list[QueuedJob]:
        """Waiting and running jobs of one scope (chat, or every channel of a server), in queue order."""
        ids = await self.redis.zrange(self.mod.settings.queue_name, 0, MAX_LISTED - 1)
        jobs: list[QueuedJob] = []
        for raw in ids:
            job_id = as_text(raw)
            request = await self.mod.queue.load_request(job_id)
            if request is None or (request.requester.platform, request.requester.scope) != (platform, scope):
                continue
            state = await self.mod.queue.state(job_id) or "queued"
            jobs.append(QueuedJob(job_id, request.requester.user_id, state, request.kind.value, request.prompt))
        return jobs

    async def cancel(self, moderator: Requester, job_id: str, finisher: JobFinisher) -> str:
        """Cancel a job of the moderator's chat; returns what happened, raises Refusal if it can't."""
        request = await self.mod.queue.load_request(job_id)
        if request is None or (request.requester.platform, request.requester.scope) != (
                moderator.platform, moderator.scope):
            raise Refusal(_("There is no job {job_id} in this chat. See /mod queue.", job_id=job_id[:32]),
                          reason="invalid")
        s = self.mod.settings
        result = await self._take(keys=[in_progress_key_prefix + job_id, s.queue_name, job_key_prefix + job_id],
                                  args=[job_id])
        if result in (b"running", "running"):
            if await self.mod.queue.state(job_id) != "running":
                # arq has claimed it but the job function hasn't begun: an abort now would drop it unanswered.
                raise Refusal(_("Job {job_id} is just starting; try /mod cancel again in a moment.", job_id=job_id),
                              reason="busy")
            await finisher.mark_cancelled(job_id)
            await self.redis.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)})
            return _("Job {job_id} is running; it is being stopped and its author told.", job_id=job_id)
        if not result:
            raise Refusal(_("Job {job_id} has already finished.", job_id=job_id), reason="invalid")
        await finisher.finish(request, cancelled_reply(request), "cancelled")
        return _("Job {job_id} was taken off the queue and its author told.", job_id=job_id)


def cancelled_reply(request: GenerationRequest) -> GenerationReply:
    return GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                           prompt=request.prompt, seed=request.seed, error=cancelled_text(request))
