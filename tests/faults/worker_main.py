"""A real `reelsmith worker` process for fault tests, with one test probe: a feature whose finalizer runs
after the real ones (credit refunds and settlements, metrics, provenance) and records each call in Redis
(`<prefix>:probe:finalized`).

With `FAULT_FAKE_STEP_S` set, the models are replaced by the test job: no model is loaded (the worker is ready
in about a second), and a job sleeps that long per step (stopping between steps and reporting progress like a
pipeline does) and renders a solid square, which then goes through the real labelling, encoding, storing,
fencing, reply and quota path. The load, kill, fencing, failover and network-partition tests use it: their
faults are in processes, Redis and the network, and a step of known length lands each fault mid-run whatever
the machine's load.

Run as `python tests/faults/worker_main.py` with the usual REELSMITH_* / REDIS_URL environment.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arq.connections import ArqRedis  # noqa: E402
from PIL import Image  # noqa: E402

import core.generation.pipeline  # noqa: E402
import reelsmith  # noqa: E402
import workers.runtime  # noqa: E402
from core.contract import Feature  # noqa: E402
from core.generation.pipeline import GenerationCancelled, GenerationResult, Job, PipelineSet  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationReply, GenerationRequest, JobKind  # noqa: E402

real_features = workers.runtime.build_features


def probe_features(settings: Settings, redis: ArqRedis) -> list[Feature]:
    async def record(request: GenerationRequest, reply: GenerationReply) -> None:
        await redis.rpush(settings.key("probe", "finalized"), request.job_id)

    return [*real_features(settings, redis), Feature("probe", finalizers=(record,))]


class FakePipelines(PipelineSet):
    """The test job: `steps` sleeps of FAULT_FAKE_STEP_S, then a solid square; nothing is loaded."""

    step_s = float(os.environ.get("FAULT_FAKE_STEP_S", "0"))

    def warm_up(self, kinds: tuple[JobKind, ...] = tuple(JobKind), models: tuple[str, ...] = ()) -> None:
        return None

    def render(self, jobs: Sequence[Job]) -> list[GenerationResult]:
        results = []
        for job in jobs:
            started = time.perf_counter()
            total = job.request.steps
            for step in range(total):
                if job.should_stop is not None and job.should_stop():
                    raise GenerationCancelled("stopped")
                time.sleep(self.step_s)
                if job.progress is not None:  # each step reports, as a pipeline's step callback does
                    job.progress(step + 1, total)
            frame = Image.new("RGB", (job.request.width, job.request.height), (200, 60, 40))
            results.append(GenerationResult(frames=[frame], is_video=False, model="fault-test-job",
                                            seconds=time.perf_counter() - started))
        return results


workers.runtime.build_features = probe_features  # type: ignore[assignment]
if "FAULT_FAKE_STEP_S" in os.environ:
    workers.runtime.PipelineSet = FakePipelines  # type: ignore[misc]
    # The test job runs on no device: asking torch which one there is would import it (a second of start-up).
    core.generation.pipeline.resolve_device = lambda setting: "cpu"  # type: ignore[assignment]
    core.generation.pipeline.resolve_dtype = lambda setting, device: None  # type: ignore[assignment]

if __name__ == "__main__":
    reelsmith.main(sys.argv[1:] or ["worker"])
