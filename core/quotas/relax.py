"""The relax lane: in a chat that turned it on, a member out of credits is queued instead of refused.

A relax-lane job costs no credits. It is queued in the `relax` tier, in a band of the queue after every other
tier's jobs (core/queue/fairness.py), and a worker starts it only while it runs nothing else and no other job
waits (workers/settings.py): it uses idle GPU time only. Each member has at most one relax job in flight: a
slot `<job id>|<admitted ms>` per member, taken atomically. The slot is free again when the job's finalizer
releases it, when the guard gives it back (not queued), or when its job is no longer on the queue (finished,
cancelled or expired) once a short grace for the enqueue itself has passed.

Where the lane applies: chats whose moderators ran `/mod relax on`, or, where they never chose, the
`relax_lane_default` setting; `relax_lane_allowed=false` keeps it off everywhere, and so does
`fair_queueing=false` (the lane is a band of the fair queue). Only running out of credits
(the member's own, or the chat's shared budget) leads there: a chat's own limit for one member, cooldowns and
jobs-in-flight caps refuse as before.
"""

from __future__ import annotations

from arq.connections import ArqRedis

from core.clock import Clock, system_clock
from core.i18n import N_
from core.queue.connection import as_text
from core.queue.fairness import RELAX_TIER
from core.settings import Settings
from core.types import GenerationRequest, Requester

# Quota refusals the relax lane answers instead: out of credits, not limited by a moderator.
RELAX_REASONS = frozenset({"credits", "chat"})
ENQUEUE_GRACE_MS = 60_000  # a slot whose job is not on the queue yet counts as taken this long

# Translated where shown (`translate`).
RELAX_QUOTA_NOTE = N_("This chat has the relax lane on: when you're out of credits, a job is queued at no charge "
                      "and runs when the GPUs are idle (one at a time).")
RELAX_EXPIRED_TEXT = N_("Sorry, your relax-lane job waited so long for idle GPUs that it expired without running. "
                        "Nothing was charged; send it again, or wait for your credits to come back (/quota).")
RELAX_BUSY_TEXT = N_("You already have a job waiting in the relax lane (one at a time). It runs when the GPUs are "
                     "idle; send this again once it's done, or when your credits come back (/quota).")

_TAKE_LUA = """
-- KEYS: 1 the member's relax slot, 2 queue zset. ARGV: 1 job id, 2 now ms, 3 slot ttl ms, 4 enqueue grace ms
local slot = redis.call('GET', KEYS[1])
if slot then
  local job, at = string.match(slot, '^(.*)|(%d+)$')
  if job == ARGV[1] then return 1 end
  if redis.call('ZSCORE', KEYS[2], job) or tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[4]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
"""

_RELEASE_LUA = """
-- KEYS: 1 the member's relax slot. ARGV: 1 job id. Frees the slot only if this job holds it.
local slot = redis.call('GET', KEYS[1])
if slot and string.match(slot, '^(.*)|%d+$') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RelaxLane:
    """Which chats have the relax lane on, and each member's one relax slot."""

    def __init__(self, redis: ArqRedis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self._take = redis.register_script(_TAKE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    def _chat_key(self, platform: str, scope: str) -> str:
        return self.settings.key("relax", "chat", platform, scope)

    def _slot_key(self, platform: str, user_id: str) -> str:
        return self.settings.key("relax", "slot", platform, user_id)

    async def enabled(self, platform: str, scope: str) -> bool:
        """Whether members out of credits in this chat are queued in the relax lane."""
        if not self.settings.relax_lane_allowed or not self.settings.fair_queueing:
            return False  # without fair queueing there is no band to put relax jobs behind everyone else
        raw = await self.redis.get(self._chat_key(platform, scope))
        return self.settings.relax_lane_default if raw is None else as_text(raw) == "on"

    async def set_enabled(self, platform: str, scope: str, on: bool) -> None:
        """A moderator's choice for their chat (it outlasts changes to the default)."""
        await self.redis.set(self._chat_key(platform, scope), "on" if on else "off")

    async def take_slot(self, request: GenerationRequest) -> bool:
        """Hold the member's one relax slot for this job; False if another relax job of theirs is in flight."""
        r = request.requester
        s = self.settings
        ttl_ms = (s.relax_job_ttl_s + s.job_timeout_s + 3600) * 1000
        taken = await self._take(keys=[self._slot_key(r.platform, r.user_id), s.queue_name],
                                 args=[request.job_id, int(self.clock() * 1000), ttl_ms, ENQUEUE_GRACE_MS])
        return bool(int(taken))

    async def release(self, job_id: str, requester: Requester) -> bool:
        """Free the member's slot if this job holds it (idempotent)."""
        done = await self._release(keys=[self._slot_key(requester.platform, requester.user_id)], args=[job_id])
        return bool(int(done))

    def queue(self, request: GenerationRequest) -> None:
        """Mark `request` for the relax lane: the relax tier, its tiny share, no charge."""
        request.tier = RELAX_TIER
        request.priority = self.settings.relax_weight
