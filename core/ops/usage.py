"""GPU time per quota tier: what each tier's finished jobs cost in render time, for owners (`/mod usage`).

The worker adds each job's render time (`GenerationReply.gpu_s`, a batch's time shared by its jobs) to a Redis
hash per platform, `<tier>:seconds` and `<tier>:jobs`, all time, so every process reads the same totals and
they survive restarts; the Prometheus counter `reelsmith_gpu_seconds_total` (core/ops/metrics.py) carries the
same seconds for the dashboard. Jobs admitted without a tier (quotas off) count as `default`.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from core.i18n import _, ngettext
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest

DEFAULT_TIER = "default"


def as_text(value: bytes | str) -> str:
    # Not core.queue's: the queue package reports into core.ops.metrics, which imports this module.
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class TierGpu:
    """One tier's GPU time on a platform, all time."""

    tier: str
    seconds: float
    jobs: int

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def tier_of(request: GenerationRequest) -> str:
    return request.tier or DEFAULT_TIER


def gpu_key(settings: Settings, platform: str) -> str:
    return settings.key("usage", "gpu", platform)


async def record_gpu(redis: Redis, settings: Settings, request: GenerationRequest, reply: GenerationReply) -> None:
    """Add a finished job's render time to its tier's total (nothing for a job that rendered nothing)."""
    if reply.gpu_s <= 0:
        return
    key, tier = gpu_key(settings, request.requester.platform), tier_of(request)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hincrbyfloat(key, f"{tier}:seconds", reply.gpu_s)
        pipe.hincrby(key, f"{tier}:jobs", 1)
        await pipe.execute()


async def gpu_by_tier(redis: Redis, settings: Settings, platform: str) -> list[TierGpu]:
    """Every tier's GPU time on `platform`, most first."""
    raw = await redis.hgetall(gpu_key(settings, platform))
    totals: dict[str, dict[str, float]] = {}
    for k, v in raw.items():
        tier, _, what = as_text(k).rpartition(":")
        totals.setdefault(tier, {})[what] = float(as_text(v))
    rows = [TierGpu(tier, t.get("seconds", 0.0), int(t.get("jobs", 0))) for tier, t in totals.items()]
    return sorted(rows, key=lambda row: (-row.seconds, row.tier))


async def gpu_text(redis: Redis, settings: Settings, platform: str) -> str:
    """GPU minutes per tier on one platform, as `/mod usage` shows owners."""
    rows = await gpu_by_tier(redis, settings, platform)
    if not rows:
        return _("No GPU time used on {platform} yet.", platform=platform)
    lines = [_("GPU time on {platform} (all time, render time of finished jobs):", platform=platform)]
    lines += ["- " + ngettext("{tier}: {minutes} GPU minutes, {n} job", "{tier}: {minutes} GPU minutes, {n} jobs",
                              row.jobs, tier=row.tier, minutes=_minutes(row.minutes)) for row in rows]
    lines.append(_("Total: {minutes} GPU minutes.", minutes=_minutes(sum(row.minutes for row in rows))))
    return "\n".join(lines)


def _minutes(m: float) -> str:
    # Small totals keep three significant digits, so a few quick jobs never read as zero.
    return f"{m:.1f}" if m >= 10 else f"{m:.3g}"
