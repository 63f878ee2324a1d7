"""A real `reelsmith worker` process for fault tests, with one test probe: a feature whose finalizer runs
after the real ones (credit refunds and settlements, metrics, provenance) and records each call in Redis
(`<prefix>:probe:finalized`).

Run as `python tests/faults/worker_main.py` with the usual REELSMITH_* / REDIS_URL environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arq.connections import ArqRedis  # noqa: E402

import reelsmith  # noqa: E402
import workers.runtime  # noqa: E402
from core.contract import Feature  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationReply, GenerationRequest  # noqa: E402

real_features = workers.runtime.build_features


def probe_features(settings: Settings, redis: ArqRedis) -> list[Feature]:
    async def record(request: GenerationRequest, reply: GenerationReply) -> None:
        await redis.rpush(settings.key("probe", "finalized"), request.job_id)

    return [*real_features(settings, redis), Feature("probe", finalizers=(record,))]


workers.runtime.build_features = probe_features  # type: ignore[assignment]

if __name__ == "__main__":
    reelsmith.main(sys.argv[1:] or ["worker"])
