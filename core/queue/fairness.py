"""Fair queue ordering on top of arq: start-time fair queueing with per-user virtual time.

arq's worker starts the jobs of its queue zset in ascending score order, taking only scores <= now.
Plain arq scores a job with its enqueue time, so one member who queues 50 jobs makes everyone after
them wait for all 50. Here the score is a *virtual start tag* instead:

- every user has a finish tag F (Redis, per platform:user); the queue has a virtual clock V, which is
  the smallest tag still in the queue (the job at the head or running), or, when the queue is empty,
  the largest finish tag handed out so far;
- a new job starts at S = max(V, F_user) and moves the user's tag on: F_user = S + cost * 1000 / weight,
  where cost is the job's credits (a video counts five images) and weight its quota tier's share;
- the job's score is 1 + S. Virtual tags grow by about 1000 per credit spent, so they stay far below
  `VIRTUAL_CEILING` (1e12, i.e. a Unix time in ms of 2001): every job is runnable at once (arq never
  sees a future score) and a fresh job sorts before any time-scored entry.

So A with 50 jobs queued holds tags V, V+1000, ..., and B arriving later gets S = V: B starts next.
A tier with weight 2 advances its tags half as fast, getting twice the share while both are busy, and
the default tier still advances: it is never starved. A user idle for a while starts again at V, with
no credit banked from idleness. Tags and the clock expire `fair_tag_ttl_s` after their last enqueue, so
the scheme keeps no state about members who stopped using the bot.

Retries: arq re-scores a retried job to now + delay (real time, above the ceiling). Each enqueue moves
such entries whose delay has passed (and that are not running) to V, the front of the fair line, so a
retry is never starved by a busy queue. The whole step (checks, tags, job record, zadd) is one Lua
script, so concurrent enqueues never see a half-updated clock. The record is arq's own
(`arq.jobs.serialize_job`, with the JSON codec of core/queue/job_codec.py), so the stock arq worker runs these
jobs; it re-reads the queue on every poll and starts only as many ids as it has free slots, so a job that
arrives later with a lower score overtakes.

The relax lane (members out of credits, in chats that turned it on) is a second band of the same queue: its
jobs are scored from `RELAX_BASE` up, with their own tags and clock, so every other job sorts before them and
they never move the main line's clock. Their job records say `lane=relax`; a Reelsmith worker starts one only
while it runs nothing else and `normal_waiting` finds no other job waiting (workers/settings.py), so it uses
idle time only. A retried relax job keeps its real-time score (after every band) and is not promoted.
"""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.constants import expires_extra_ms, in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job

from core.clock import Clock, system_clock
from core.queue import job_codec
from core.settings import Settings

VIRTUAL_CEILING = 1e12
RELAX_BASE = 5e11  # relax-lane scores start here: above every main-line tag, below the ceiling
RELAX_TIER = "relax"  # the tier name of relax-lane jobs (GenerationRequest.tier)
RELAX_LANE = "relax"  # the job record's `lane` field for them
TAG_UNIT = 1000.0  # virtual time per credit at weight 1
PROMOTE_BATCH = 20

_ENQUEUE_LUA = """
-- KEYS: 1 queue zset, 2 arq job key, 3 arq result key, 4 user finish tag, 5 virtual clock hash
-- ARGV: 1 job id, 2 serialized job, 3 job key ttl ms, 4 tag increment, 5 ceiling, 6 now ms,
--       7 in-progress key prefix, 8 user tag ttl ms, 9 promote batch,
--       10 band base (0: main line, RELAX_BASE: relax lane), 11 band top, 12 job record key prefix
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return -1 end
local base = tonumber(ARGV[10])
local v = tonumber(redis.call('HGET', KEYS[5], 'v') or '0')
local fmax = tonumber(redis.call('HGET', KEYS[5], 'fmax') or '0')
local head = redis.call('ZRANGEBYSCORE', KEYS[1], base, '(' .. ARGV[11], 'WITHSCORES', 'LIMIT', 0, 1)
if head[2] then
  v = math.max(v, tonumber(head[2]) - base - 1)
else
  v = math.max(v, fmax)
end
-- Retries whose delay has passed (arq scored them in real time): back to the front of the main line.
-- Relax-lane retries stay where they are, after every band (they run when nothing else waits).
if base == 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[5], ARGV[6], 'LIMIT', 0, tonumber(ARGV[9]))
  for _, id in ipairs(due) do
    if redis.call('EXISTS', ARGV[7] .. id) == 0 and redis.call('HGET', ARGV[12] .. id, 'lane') ~= 'relax' then
      redis.call('ZADD', KEYS[1], 'XX', 0.5 + v, id)  -- just ahead of every job at V (and never 0)
    end
  end
end
local f = tonumber(redis.call('GET', KEYS[4]) or '0')
local s = math.max(v, f)
local finish = s + tonumber(ARGV[4])
redis.call('SET', KEYS[4], tostring(finish), 'PX', ARGV[8])
redis.call('HSET', KEYS[5], 'v', tostring(v), 'fmax', tostring(math.max(fmax, finish)))
redis.call('PEXPIRE', KEYS[5], ARGV[8])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], base + 1 + s, ARGV[1])
return redis.call('ZRANK', KEYS[1], ARGV[1])
"""

_NORMAL_WAITING_LUA = """
-- KEYS: 1 queue zset. ARGV: 1 now ms, 2 in-progress key prefix, 3 job record key prefix, 4 how many to look at
-- 1 if a job outside the relax lane is due and not running, else 0.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[2] .. id) == 0 and redis.call('HGET', ARGV[3] .. id, 'lane') ~= 'relax' then
    return 1
  end
end
return 0
"""


class FairScheduler:
    """Puts arq jobs on the queue with fair-share scores (see the module docstring)."""

    def __init__(self, redis: ArqRedis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self._script = redis.register_script(_ENQUEUE_LUA)
        self._normal_waiting = redis.register_script(_NORMAL_WAITING_LUA)

    def user_key(self, platform: str, user_id: str, relax: bool = False) -> str:
        lane = ("relax",) if relax else ()
        return self.settings.key("fair", self.settings.queue_name, *lane, "user", platform, user_id)

    def clock_key(self, relax: bool = False) -> str:
        return self.settings.key("fair", "clock", self.settings.queue_name, *(("relax",) if relax else ()))

    def record_prefix(self) -> str:
        """The prefix of job record keys (`core.queue.jobs.JobQueue.record_key`), for the scripts."""
        return self.settings.key("job", "")

    async def enqueue(self, function: str, payload: dict[str, object], *, job_id: str, platform: str,
                      user_id: str, cost: int, weight: float, relax: bool = False) -> int | None:
        """Queue `function(payload)` as arq job `job_id`; returns its 0-based rank, or None if the id exists.

        `relax`: in the relax lane (after every other job; its entry lasts `relax_job_ttl_s`).
        """
        now_ms = int(self.clock() * 1000)
        data = serialize_job(function, (payload,), {}, None, now_ms, serializer=job_codec.dumps)
        ttl_ms = self.settings.relax_job_ttl_s * 1000 if relax else expires_extra_ms
        base, top = (RELAX_BASE, VIRTUAL_CEILING) if relax else (0.0, RELAX_BASE)
        rank = await self._script(
            keys=[self.settings.queue_name, job_key_prefix + job_id, result_key_prefix + job_id,
                  self.user_key(platform, user_id, relax), self.clock_key(relax)],
            args=[job_id, data, ttl_ms, max(cost, 1) * TAG_UNIT / weight, VIRTUAL_CEILING, now_ms,
                  in_progress_key_prefix, int(self.settings.fair_tag_ttl_s * 1000), PROMOTE_BATCH,
                  base, top, self.record_prefix()],
        )
        return None if int(rank) < 0 else int(rank)

    async def normal_waiting(self, look_at: int = 200) -> bool:
        """Whether a job outside the relax lane is due and not running (so a relax job must not start)."""
        found = await self._normal_waiting(
            keys=[self.settings.queue_name],
            args=[int(self.clock() * 1000), in_progress_key_prefix, self.record_prefix(), look_at])
        return bool(int(found))
