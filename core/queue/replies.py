"""Replies and progress from workers to bots, through one Redis stream per platform.

Each adapter reads its platform's stream in a consumer group and acknowledges an entry only
after the platform accepted the message, so a reply published while the bot is down (or while
it crashes half-way) is delivered when it comes back. The worker publishes each job's final
reply at most once (guarded by a marker key in the same Lua call), so retries never duplicate it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, TimeoutError

from core.ops.metrics import process_metrics
from core.queue.connection import add_replica_wait, as_text, enough_replicas, replicated
from core.queue.fencing import epoch_key
from core.settings import Settings
from core.types import DeleteResult, GenerationReply, GenerationRequest, Notice, Progress

log = logging.getLogger(__name__)

GROUP = "bots"
MAX_DELIVERIES = 20

# KEYS: marker, stream, fencing epoch.  ARGV: payload, marker ttl, fencing token ('' when unfenced).
# Returns the entry id, false if already sent, or 0 if the token is not the job's epoch (a stale run).
_PUBLISH_ONCE = """
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return 0 end
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  return redis.call('XADD', KEYS[2], '*', 'type', 'reply', 'data', ARGV[1])
end
return false
"""

Published = Literal["sent", "duplicate", "stale"]


@dataclass(frozen=True)
class Event:
    entry_id: str
    type: str  # "reply" | "progress" | "notice" | "delete"
    reply: GenerationReply | None = None
    progress: Progress | None = None
    notice: Notice | None = None
    delete: DeleteResult | None = None


class ReplyBus:
    """The publishing side, used by workers."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self._publish_once = redis.register_script(_PUBLISH_ONCE)

    def stream(self, platform: str) -> str:
        return self.settings.key("replies", platform)

    def sent_marker(self, job_id: str) -> str:
        return self.settings.key("job", job_id, "replied")

    async def publish_reply(self, reply: GenerationReply) -> bool:
        """Publish a job's final reply; False if one was already published for this job."""
        return await self.publish_fenced(reply, None) == "sent"

    async def publish_fenced(self, reply: GenerationReply, token: int | None) -> Published:
        """Publish a job's final reply once, and only while `token` is the job's fencing epoch
        (core/queue/fencing.py); `None` publishes unfenced (a moderator's cancel from a bot)."""
        entry = await self._publish_once(
            keys=[self.sent_marker(reply.job_id), self.stream(reply.requester.platform),
                  epoch_key(self.settings, reply.job_id)],
            args=[reply.model_dump_json(), self.settings.result_ttl_s, "" if token is None else token],
        )
        if entry is None:
            return "duplicate"
        if entry == 0:
            return "stale"
        await replicated(self.redis, self.settings, "reply posted")
        return "sent"

    async def already_replied(self, job_id: str) -> bool:
        return bool(await self.redis.exists(self.sent_marker(job_id)))

    async def publish_progress(self, progress: Progress) -> None:
        # Progress is advisory: capped stream length is fine, a lost update is harmless.
        await self.redis.xadd(
            self.stream(progress.requester.platform),
            {"type": "progress", "data": progress.model_dump_json()},
        )

    async def publish_notice(self, notice: Notice) -> None:
        """Ask the platform's adapter to post a message (delivered at least once, like replies)."""
        await self.redis.xadd(self.stream(notice.platform), {"type": "notice", "data": notice.model_dump_json()})

    async def publish_delete(self, request: DeleteResult) -> None:
        """Ask the platform's adapter to delete a job's result message(s)."""
        await self.redis.xadd(self.stream(request.platform), {"type": "delete", "data": request.model_dump_json()})


def spoiler_for(request: GenerationRequest, *, flagged: bool) -> bool:
    """Whether a result is posted behind a spoiler (`GenerationReply.spoiler`, read by every adapter): asked for
    (`--spoiler`, or the chat's default), or flagged by the model's safety checker in a chat that allows NSFW
    (the borderline case: delivered there, but never shown at a glance)."""
    return request.spoiler or (flagged and request.nsfw_allowed)


EventHandler = Callable[[Event], Awaitable[None]]
MAX_PAUSE_S = 900.0  # the longest rate-limit pause honoured at once; a longer one is waited out in steps


class RetryLater(Exception):  # noqa: N818  (control flow, like StopIteration: not an error)
    """Raised by a handler when the platform asked for a pause (a rate limit, `Retry-After`): the entry stays
    pending and nothing more is delivered for `seconds`, so the stream does not hammer a platform that said no."""

    def __init__(self, seconds: float, what: str = "") -> None:
        super().__init__(f"{what or 'delivery'}: retry after {seconds:.2f}s")
        self.seconds = seconds


class ReplyConsumer:
    """The consuming side, used by one adapter. Run `run(handler)` as a task."""

    def __init__(self, redis: Redis, settings: Settings, platform: str, consumer: str = "main") -> None:
        self.redis = redis
        self.settings = settings
        self.platform = platform
        self.stream = settings.key("replies", platform)
        self.consumer = consumer
        self.block_ms = 1000
        self.retry_delay_s = 1.0
        self._pause_s = 0.0  # what the platform last asked for (RetryLater), before the next try

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    @staticmethod
    def _decode(entry_id: bytes | str, fields: dict[bytes, bytes]) -> Event:
        eid = as_text(entry_id)
        typ = fields.get(b"type", b"").decode()
        data = fields.get(b"data", b"{}")
        if typ == "reply":
            return Event(eid, typ, reply=GenerationReply.model_validate_json(data))
        if typ == "progress":
            return Event(eid, typ, progress=Progress.model_validate_json(data))
        if typ == "notice":
            return Event(eid, typ, notice=Notice.model_validate_json(data))
        if typ == "delete":
            return Event(eid, typ, delete=DeleteResult.model_validate_json(data))
        return Event(eid, typ)

    async def _handle(self, handler: EventHandler, entry_id: bytes | str, fields: dict[bytes, bytes]) -> bool:
        event = self._decode(entry_id, fields)
        try:
            await handler(event)
            process_metrics().count_reply(self.platform, event.type, "delivered")
        except asyncio.CancelledError:
            raise
        except RetryLater as exc:
            log.warning("delivering %s %s: %s", event.type, event.entry_id, exc)
            process_metrics().count_reply(self.platform, event.type, "failed")
            self._pause_s = max(self._pause_s, min(exc.seconds, MAX_PAUSE_S))
            return False  # a pause is the platform's state, not the entry's fault: it stays pending
        except Exception:
            log.exception("delivering %s %s failed; will retry", event.type, event.entry_id)
            process_metrics().count_reply(self.platform, event.type, "failed")
            pending = await self.redis.xpending_range(self.stream, GROUP, min=event.entry_id,
                                                      max=event.entry_id, count=1)
            if pending and int(pending[0]["times_delivered"]) < MAX_DELIVERIES and event.type != "progress":
                return False
            log.error("giving up on %s %s", event.type, event.entry_id)
            process_metrics().count_reply(self.platform, event.type, "dropped")
        await self.ack(event.entry_id)
        return True

    async def ack(self, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()
        # With replicas required, a delivered entry is forgotten on a replica too before the next one: a failover
        # then redelivers at most the entry in hand (adapters skip what `DeliveryState` says they posted), not
        # every entry acknowledged since replication last caught up.
        await replicated(self.redis, self.settings, "reply acknowledged")

    async def _read(self, last_id: str, block_ms: int | None) -> list[Any] | None:
        """XREADGROUP from `last_id` ("0": this consumer's pending entries, ">": new ones); None when replicas
        are required (`redis_wait_replicas`) and too few hold what was read.

        The read and the replicas' acknowledgement go over one connection, so they are about the same server:
        an entry a deposed master still serves (written there after its replicas left; it is thrown away when
        the master resyncs) is never delivered, which would let the job's rerun be posted a second time.
        """
        wait = bool(self.settings.redis_wait_replicas)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xreadgroup(GROUP, self.consumer, {self.stream: last_id}, count=50, block=block_ms)
            if wait:
                add_replica_wait(pipe, self.settings, "replies read")
            read, *probe_and_acked = await pipe.execute()
        if wait and not enough_replicas(probe_and_acked[-1], self.settings, "replies read"):
            return None
        return list(read or [])

    async def run_once(self, handler: EventHandler, block_ms: int | None = None) -> int:
        """Deliver this consumer's pending entries, then new ones; returns how many were handled."""
        handled = 0
        # Entries read before a crash or restart and never acknowledged come first.
        pending = await self._read("0", None)
        if pending is None:  # read from the master, but not yet on a replica: not delivered yet
            await asyncio.sleep(self.retry_delay_s)
            return handled
        failed = False
        for _stream, entries in pending:
            for entry_id, fields in entries:
                if self._pause_s:
                    break  # the platform asked for a pause: the rest waits with the entry that met it
                if not fields:  # deleted while pending
                    await self.ack(entry_id)
                    continue
                if await self._handle(handler, entry_id, fields):
                    handled += 1
                else:
                    failed = True
        if failed:
            await asyncio.sleep(max(self.retry_delay_s, self._pause_s))
            self._pause_s = 0.0
            return handled
        fresh = await self._read(">", self.block_ms if block_ms is None else block_ms)
        if fresh is None:  # read, so pending: delivered by the next pass once a replica holds them
            await asyncio.sleep(self.retry_delay_s)
            return handled
        for _stream, entries in fresh:
            for entry_id, fields in entries:
                if self._pause_s:
                    break  # read, so pending: delivered after the pause, in order
                if await self._handle(handler, entry_id, fields):
                    handled += 1
        if self._pause_s:
            await asyncio.sleep(self._pause_s)
            self._pause_s = 0.0
        return handled

    async def run(self, handler: EventHandler) -> None:
        """Deliver forever, reconnecting with backoff when Redis goes away."""
        backoff = 0.2
        while True:
            try:
                await self.ensure_group()
                while True:
                    await self.run_once(handler)
                    backoff = 0.2
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, TimeoutError, OSError) as exc:
                log.warning("reply stream %s: redis unavailable (%s); retrying in %.1fs",
                            self.stream, type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
