"""Everything that moves through Redis: the job queue and its fair ordering, job records' JSON codec, blobs,
the reply bus (`replies`), adapters' delivery state, the worker fleet, and the Redis connection (embedded
server included)."""

from core.queue.blobs import BlobStore
from core.queue.connection import as_text, connect, ensure_redis, redis_settings
from core.queue.delivery import DeliveryState
from core.queue.fleet import WorkerInfo
from core.queue.jobs import JOB_FUNCTION, JobQueue, wake_channel
from core.queue.replies import Event, EventHandler, ReplyBus, ReplyConsumer, RetryLater

__all__ = [
    "JOB_FUNCTION",
    "BlobStore",
    "DeliveryState",
    "Event",
    "EventHandler",
    "JobQueue",
    "ReplyBus",
    "ReplyConsumer",
    "RetryLater",
    "WorkerInfo",
    "as_text",
    "connect",
    "ensure_redis",
    "redis_settings",
    "wake_channel",
]
