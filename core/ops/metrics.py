"""Prometheus metrics, one private registry per process; every name starts with `reelsmith_`.

Hooked in as a feature (`metrics_feature`): a refusal listener (quota vs moderation refusals) and a
worker finalizer (jobs by kind and outcome, duration and wait); and by the reply consumer (replies
delivered or failed). Queue depth is read from Redis when /metrics is scraped; GPU memory is read
from torch at scrape time, and only in processes that already loaded torch (bots never do).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from core.contract import Feature, Finalizer, RefusalListener
from core.ops.usage import as_text, record_gpu, tier_of
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, Requester

log = logging.getLogger(__name__)

JOB_OUTCOMES = ("done", "failed")
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
WAIT_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
QUOTA_REASON = "quota"

# The names a dashboard or alert may use (tests check the dashboard against this list).
METRIC_NAMES = (
    "reelsmith_queue_depth",
    "reelsmith_redis_up",
    "reelsmith_jobs_total",
    "reelsmith_job_duration_seconds",
    "reelsmith_job_wait_seconds",
    "reelsmith_gpu_memory_used_bytes",
    "reelsmith_gpu_memory_reserved_bytes",
    "reelsmith_replies_total",
    "reelsmith_quota_refusals_total",
    "reelsmith_moderation_refusals_total",
    "reelsmith_gpu_seconds_total",
    "reelsmith_revenue_stars",
)
# Platforms whose purchases are read into `reelsmith_revenue_stars` at each scrape.
REVENUE_PLATFORMS = ("telegram", "discord")
ALL_PACKS = "all"  # the `pack` label of a platform's total revenue


def worker_name(settings: Settings) -> str:
    """This worker's name: the setting, else host-pid (the pod name in Kubernetes)."""
    return settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"


class GpuMemoryCollector(Collector):
    """GPU memory held by this process's torch allocator, per device; 0 on CPU-only processes."""

    def collect(self) -> Iterator[Metric]:
        used = GaugeMetricFamily("reelsmith_gpu_memory_used_bytes",
                                 "GPU memory allocated by this process's tensors.", labels=["device"])
        reserved = GaugeMetricFamily("reelsmith_gpu_memory_reserved_bytes",
                                     "GPU memory reserved by this process's torch caching allocator.",
                                     labels=["device"])
        devices: list[tuple[str, int, int]] = []
        torch = sys.modules.get("torch")  # never import torch just to report zero
        try:
            if torch is not None and torch.cuda.is_available():
                for i in range(torch.cuda.device_count()):
                    # Before CUDA is initialised these return 0 without creating a context.
                    devices.append((f"cuda:{i}", int(torch.cuda.memory_allocated(i)),
                                    int(torch.cuda.memory_reserved(i))))
        except Exception:  # a broken driver must not break the scrape
            log.debug("could not read GPU memory", exc_info=True)
        for name, alloc, res in devices or [("none", 0, 0)]:
            used.add_metric([name], alloc)
            reserved.add_metric([name], res)
        yield used
        yield reserved


class Metrics:
    """The process's metrics. Use `process_metrics()`; tests may build their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge("reelsmith_queue_depth",
                                 "Jobs on the queue: waiting, running or waiting for a retry.", registry=r)
        self.redis_up = Gauge("reelsmith_redis_up", "1 if the last scrape could reach Redis.", registry=r)
        self.jobs = Counter("reelsmith_jobs", "Finished jobs by kind and outcome (done, failed).",
                            ["kind", "outcome"], registry=r)
        self.job_duration = Histogram("reelsmith_job_duration_seconds", "Time a worker spent on a job.",
                                      ["kind"], buckets=DURATION_BUCKETS, registry=r)
        self.job_wait = Histogram("reelsmith_job_wait_seconds", "Time from queueing to a worker starting the job.",
                                  ["kind"], buckets=WAIT_BUCKETS, registry=r)
        self.replies = Counter("reelsmith_replies",
                               "Reply-stream messages an adapter delivered, failed to deliver (retried), or dropped.",
                               ["platform", "type", "outcome"], registry=r)
        self.stale_results = Counter("reelsmith_stale_results",
                                     "Results dropped because their run had lost its lease to a later run "
                                     "(fencing: never posted, never charged).", registry=r)
        self.quota_refusals = Counter("reelsmith_quota_refusals", "Requests refused for quota.",
                                      ["platform"], registry=r)
        self.moderation_refusals = Counter("reelsmith_moderation_refusals",
                                           "Requests refused by moderation and policy guards, by reason.",
                                           ["platform", "reason"], registry=r)
        # The fleet's heartbeats (core/queue/fleet.py), read at each scrape: which worker holds which model warm,
        # and how often each had to load, switch or evict one.
        self.warm_models = Gauge("reelsmith_worker_warm_models", "1 for each catalog model a live worker holds warm.",
                                 ["worker", "model"], registry=r)
        self.model_loads = Gauge("reelsmith_worker_model_loads", "Model loads of a live worker since it started, "
                                 "by kind of load (load: any; switch: after warm-up; eviction: a model dropped).",
                                 ["worker", "event"], registry=r)
        # GPU time per quota tier (the worker counts each job's render time; core/ops/usage.py keeps the totals).
        self.gpu_seconds = Counter("reelsmith_gpu_seconds", "Render time of finished jobs, by platform and quota "
                                   "tier (relax: the relax lane).", ["platform", "tier"], registry=r)
        # Net revenue per pack, all time, read from the purchases ledger (core/billing/ledger.py) at each scrape.
        self.revenue = Gauge("reelsmith_revenue_stars", "Net revenue per credit pack in Telegram Stars, all time "
                             "(sold minus refunded); pack=\"all\": the platform's total.", ["platform", "pack"],
                             registry=r)
        r.register(GpuMemoryCollector())
        for kind in JobKind:  # zero series from the start, so rates and dashboards are not empty
            self.job_duration.labels(kind.value)
            self.job_wait.labels(kind.value)
            for outcome in JOB_OUTCOMES:
                self.jobs.labels(kind.value, outcome)

    # ---- events -------------------------------------------------------------------------
    def count_refusal(self, platform: str, reason: str) -> None:
        if reason == QUOTA_REASON:
            self.quota_refusals.labels(platform).inc()
        else:
            self.moderation_refusals.labels(platform, reason).inc()

    def count_reply(self, platform: str, event_type: str, outcome: str) -> None:
        """An adapter handled a reply-stream entry (progress updates are not counted: they are advisory)."""
        if event_type != "progress":
            self.replies.labels(platform, event_type or "unknown", outcome).inc()

    def observe_job(self, request: GenerationRequest, reply: GenerationReply, finished_at: float) -> None:
        kind = request.kind.value
        self.jobs.labels(kind, "failed" if reply.error else "done").inc()
        self.job_duration.labels(kind).observe(reply.elapsed_s)
        started_at = finished_at - reply.elapsed_s
        self.job_wait.labels(kind).observe(max(0.0, started_at - request.created_at))
        if reply.gpu_s > 0:
            self.gpu_seconds.labels(request.requester.platform, tier_of(request)).inc(reply.gpu_s)

    # ---- exposition ---------------------------------------------------------------------
    async def refresh(self, redis: Redis, settings: Settings) -> None:
        """Read the values that live in Redis (call before rendering)."""
        try:
            self.queue_depth.set(int(await redis.zcard(settings.queue_name)))
            from core.queue import fleet  # the queue package reports into these metrics: import at call time

            live = await fleet.workers(redis, settings)
            revenue = {p: await redis.hgetall(settings.key("billing", "revenue", p)) for p in REVENUE_PLATFORMS}
            self.redis_up.set(1)
        except Exception:
            self.redis_up.set(0)
            return
        self.revenue.clear()
        for platform, raw in revenue.items():
            self._set_revenue(platform, {as_text(k): int(v) for k, v in raw.items()})
        self.warm_models.clear()
        self.model_loads.clear()
        for info in live:
            for model in info.models:
                self.warm_models.labels(info.name, model).set(1)
            for event, count in (("load", info.loads), ("switch", info.switches), ("eviction", info.evictions)):
                self.model_loads.labels(info.name, event).set(count)

    def _set_revenue(self, platform: str, fields: dict[str, int]) -> None:
        """Net stars per pack from the ledger's `<pack>:stars` and `<pack>:refunded_stars` fields, and their sum
        as pack `all` (0 before the first sale, so the series exists)."""
        total = 0
        for name, value in fields.items():
            pack, _, what = name.rpartition(":")
            if what == "stars":
                net = value - fields.get(f"{pack}:refunded_stars", 0)
                self.revenue.labels(platform, pack).set(net)
                total += net
        self.revenue.labels(platform, ALL_PACKS).set(total)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_process_metrics: Metrics | None = None


def process_metrics() -> Metrics:
    """This process's metrics (created on first use)."""
    global _process_metrics
    if _process_metrics is None:
        _process_metrics = Metrics()
    return _process_metrics


def refusal_listener(metrics: Metrics) -> RefusalListener:
    """A refusal listener: quota refusals vs every other reason."""

    async def count_refusal(requester: Requester, reason: str, _message: str) -> None:
        metrics.count_refusal(requester.platform, reason)

    return count_refusal


def job_finalizer(metrics: Metrics, settings: Settings, redis: Redis) -> Finalizer:
    """A worker finalizer: counts and times each finished job and records which worker ran it."""
    name = worker_name(settings)

    async def observe_job(request: GenerationRequest, reply: GenerationReply) -> None:
        metrics.observe_job(request, reply, time.time())
        log.info("job %s %s kind=%s in %.2fs on %s", request.job_id, "failed" if reply.error else "done",
                 request.kind.value, reply.elapsed_s, name)
        # The job record says where it ran: the first thing to look at when one machine misbehaves.
        await redis.hset(settings.key("job", request.job_id), "worker", name)
        await record_gpu(redis, settings, request, reply)

    return observe_job


def metrics_feature(settings: Settings, redis: Redis) -> Feature:
    """Metrics' part of the service (refusals counted) and the worker (jobs counted and timed)."""
    metrics = process_metrics()
    return Feature(name="metrics", refusal_listeners=(refusal_listener(metrics),),
                   finalizers=(job_finalizer(metrics, settings, redis),))
