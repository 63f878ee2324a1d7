"""Everything that moves through Redis: the job queue and its fair ordering (`jobs`, `fairness`), job records'
JSON codec (`job_codec`), blob metadata and expiry (`blobs`; the bytes live in core/storage), the reply bus
(`replies`), the job finisher (`finisher`: the one way a job ends), adapters' delivery state (`delivery`), the
worker fleet, and the Redis connection (`connection`, `embedded_redis`)."""

from core.queue import fleet, job_codec
from core.queue.blobs import BlobStore, MediaBudgetExceeded, Upload
from core.queue.connection import as_text, connect, ensure_redis, redis_settings
from core.queue.delivery import DeliveryState
from core.queue.finisher import CANCELLED_TEXT, JobFinisher
from core.queue.fleet import WorkerInfo
from core.queue.jobs import JOB_FUNCTION, JobQueue, wake_channel
from core.queue.replies import Event, EventHandler, ReplyBus, ReplyConsumer, RetryLater

__all__ = [
    "CANCELLED_TEXT", "JOB_FUNCTION", "BlobStore", "DeliveryState", "Event", "EventHandler", "JobFinisher", "JobQueue",
    "MediaBudgetExceeded", "ReplyBus", "ReplyConsumer", "RetryLater", "Upload", "WorkerInfo", "as_text", "connect",
    "ensure_redis", "fleet", "job_codec", "redis_settings", "wake_channel",
]
