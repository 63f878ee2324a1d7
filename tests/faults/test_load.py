"""Load: 500 queued jobs from 50 members on 2 worker processes; no loss, no duplicate, memory back to baseline.

The workers run the test job (FAULT_FAKE_STEP_S in tests/faults/worker_main.py): what is under load is the
queue, Redis and the labelling, storing, reply and quota path, not the model (tests/ops/test_multi_worker.py
runs worker processes on the tiny models); loading no model saves each worker seconds of start-up.
"""

from __future__ import annotations

import contextlib
from collections import Counter

from core.ops.usage import gpu_key
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Requester
from tests.conftest import wait_for
from tests.faults.conftest import Collector, Procs, image_request

JOBS = 500
MEMBERS = 50
TTL_S = 5  # results, blobs and records expire this long after they are written
SWEEP_S = 1.0  # how often the workers delete expired media (and their expiry index entries) from the store


async def _memory(service: Reelsmith) -> tuple[int, set[bytes]]:
    """Used memory, and every key but the test's finalizer probe (the only key without a TTL we add)."""
    info = await service.redis.info("memory")
    probe = service.settings.key("probe", "finalized").encode()
    # GPU time per tier (core/ops/usage.py) is kept for good on purpose: one hash per platform, whatever the jobs.
    lasting = gpu_key(service.settings, "").encode()
    return int(info["used_memory"]), {k async for k in service.redis.scan_iter(count=1000)
                                      if k != probe and not k.startswith(lasting)}


MEDIA_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")


async def _media_values(service: Reelsmith, keys: set[bytes]) -> list[bytes]:
    """The keys whose value (a string, or any field of a hash) starts like an image file."""
    found = []
    for key in keys:
        kind = await service.redis.type(key)
        values = ([await service.redis.get(key)] if kind == b"string"
                  else list((await service.redis.hgetall(key)).values()) if kind == b"hash" else [])
        if any(isinstance(v, bytes) and v.startswith(MEDIA_MAGIC) for v in values):
            found.append(key)
    return found


async def _no_keys_left(service: Reelsmith, base_keys: set[bytes]) -> bool:
    return not ((await _memory(service))[1] - base_keys)


async def test_500_jobs_from_50_members_on_2_workers(
    fsettings: Settings, procs: Procs, collector: Collector, fservice: Reelsmith
) -> None:
    short = fsettings.model_copy(update={"blob_ttl_s": TTL_S, "result_ttl_s": TTL_S, "job_keep_result_s": 1,
                                         "fair_tag_ttl_s": TTL_S, "provenance_retention_s": TTL_S,
                                         "media_sweep_interval_s": SWEEP_S})
    workers = [procs.worker(n, short, step_s=0) for n in ("w1", "w2")]
    for w in workers:
        await w.wait_log("worker ready")
    fservice.settings = short
    fservice.queue.settings = short
    fservice.queue.fair.settings = short
    await wait_for(lambda: fservice.redis.exists(short.key("replies", "web")), timeout=30)
    base_mem, base_keys = await _memory(fservice)

    members = [Requester(platform="web", user_id=f"u{i}", chat_id=f"c{i}") for i in range(MEMBERS)]
    job_ids = []
    for i in range(JOBS):
        request = image_request(steps=1, size=16, requester=members[i % MEMBERS])
        await fservice.queue.enqueue(request)
        job_ids.append(request.job_id)

    async def all_answered() -> bool:
        return len({e.reply.job_id for e in collector.events if e.reply is not None}) >= JOBS

    await wait_for(all_answered, timeout=540, interval=0.5)
    peak_mem, peak_keys = await _memory(fservice)
    assert await fservice.queue.depth() == 0
    # Media live in the media store, not in Redis: while every result is still kept, no Redis value is a file.
    assert await _media_values(fservice, peak_keys) == []

    with contextlib.suppress(AssertionError):  # the assertion below names what is left
        await wait_for(lambda: _no_keys_left(fservice, base_keys), timeout=TTL_S + 60, interval=0.5)
    end_mem, end_keys = await _memory(fservice)

    counts = Counter(e.reply.job_id for e in collector.events if e.reply is not None)
    assert set(counts) == set(job_ids)  # no loss
    assert max(counts.values()) == 1  # no duplicate reply
    replies = [e.reply for e in collector.events if e.reply is not None]
    assert all(r.error is None and len(r.media) == 1 for r in replies)
    by_member = Counter(r.requester.user_id for r in replies)
    assert len(by_member) == MEMBERS and set(by_member.values()) == {JOBS // MEMBERS}
    # Every worker did a share: the queue is really shared.
    for w in workers:
        assert "try 1 started" in w.log()
    assert end_keys <= base_keys, end_keys - base_keys
    assert peak_mem > base_mem
    assert end_mem - base_mem <= max(256 * 1024, (peak_mem - base_mem) // 10), (base_mem, peak_mem, end_mem)
