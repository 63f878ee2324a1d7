"""/verify false positives: unmarked files through the same judge and registry /verify uses; claims must be 0.

Flat colours, gradients, noise, smooth unmarked pictures, the shipped photos (rescaled, recompressed),
another install's results (validly marked, tagged with our name, recorded only in that install's registry)
and grey / noise / picture clips; our registry holds a few real jobs. Prints how many were claimed and how
many watermark readings were valid codewords at all (a valid reading alone is not a claim).

    .venv/bin/python bench/verify_fp.py [--per-kind 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.labelling.provenance import ProvenanceRegistry  # noqa: E402
from core.labelling.verify import answer, verify_in_process  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.types import GenerationReply, GenerationRequest, JobKind, Requester  # noqa: E402
from tests.labelling.unmarked import inputs  # noqa: E402


async def run(per_kind: int, redis_url: str) -> None:
    settings = Settings(_env_file=None, redis_url=redis_url, key_prefix="fpbench")
    redis = await connect(settings)
    registry = ProvenanceRegistry(redis, settings)
    who = Requester(platform="bench", user_id="u", chat_id="c")
    for i in range(50):  # our own jobs: a full registry is where a random payload could land
        request = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt=f"p{i}", width=256, height=256,
                                    seed=i, steps=1)
        await registry.record(request, GenerationReply(job_id=request.job_id, requester=who, kind=request.kind,
                                                       prompt="p", seed=i, model="m"))
    total = claimed = valid = 0
    by_kind: dict[str, list[int]] = {}
    t = time.perf_counter()
    for name, data in inputs(per_kind):
        verdict = await verify_in_process(data, settings, registry)
        says_made_here = answer(verdict, settings, moderator=True).startswith("\u2705")
        kind = name.split()[0]
        row = by_kind.setdefault(kind, [0, 0, 0])
        row[0] += 1
        row[1] += verdict.labelled or says_made_here
        row[2] += verdict.watermark is not None and verdict.watermark.valid
        total += 1
        claimed += verdict.labelled or says_made_here
        valid += verdict.watermark is not None and verdict.watermark.valid
        if verdict.labelled or says_made_here:
            print(f"  CLAIMED: {name}")
    await redis.aclose()
    print(f"{total} unmarked inputs in {time.perf_counter() - t:.0f} s: {claimed} claimed as made here, "
          f"{valid} valid watermark readings")
    for kind, (n, c, v) in by_kind.items():
        print(f"  {kind:9s} {n:4d} inputs, {c} claimed, {v} valid readings")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-kind", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp), appendonly=False).start()
        try:
            asyncio.run(run(args.per_kind, server.url))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
