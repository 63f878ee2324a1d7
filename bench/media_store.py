"""Redis memory with media in Redis (as before issue 21) vs in the media store, over N image jobs.

For each mode it starts a fresh embedded Redis, the playground (HTTP, on 127.0.0.1) and a real arq worker with
the tiny model, sends N `/imagine` jobs from 20 chats, waits for every result, fetches each through /media, and
prints Redis's `used_memory` (INFO memory) before and after, and the bytes of media the jobs produced.

- redis: the bytes kept in Redis next to their metadata (the old layout), through a store written here;
- filesystem: the default media store under the data dir;
- s3: the S3 store against a moto server (needs `moto[server]`, installed with the dev extra).

    .venv/bin/python bench/media_store.py [--jobs 200] [--modes redis,filesystem,s3] [--size 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

import core.queue.blobs as blobs_module  # noqa: E402
from core.generation.pipeline import PipelineSet  # noqa: E402
from core.generation.tiny_models import build_tiny_models  # noqa: E402
from core.queue.connection import connect  # noqa: E402
from core.queue.embedded_redis import EmbeddedRedis  # noqa: E402
from core.service.features import build_service  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage.media_store import MediaObject, MediaStore  # noqa: E402

CHATS = 20


class RedisBytesStore:
    """The layout before the media store: every object's bytes in Redis (only for this comparison)."""

    kind = "redis"

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        body = data if isinstance(data, bytes) else b"".join([c async for c in data])
        await self.redis.set(f"{self.prefix}:{object_id}", body)
        return len(body)

    async def open(self, object_id: str) -> MediaObject | None:
        body = await self.redis.get(f"{self.prefix}:{object_id}")
        if body is None:
            return None

        async def one() -> AsyncIterator[bytes]:
            yield bytes(body)

        return MediaObject(size=len(body), chunks=one())

    async def exists(self, object_id: str) -> bool:
        return bool(await self.redis.exists(f"{self.prefix}:{object_id}"))

    async def delete(self, object_ids: Sequence[str]) -> None:
        if object_ids:
            await self.redis.delete(*[f"{self.prefix}:{i}" for i in object_ids])

    async def presign(self, object_id: str, ttl_s: int, mime: str) -> str | None:
        return None


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def run_mode(mode: str, jobs: int, size: int, work: Path, tiny: Path, pipelines: PipelineSet,
                   s3_endpoint: str | None) -> dict[str, Any]:
    from bots.web.app import WebPlayground
    from tests.conftest import running_worker, s3_media_settings
    from tests.playground import finished, send

    server = EmbeddedRedis(work / f"redis-{mode}", appendonly=False).start()
    extra: dict[str, Any] = {}
    if mode == "s3":
        assert s3_endpoint is not None
        extra = s3_media_settings(s3_endpoint, prefix=f"bench-{int(time.time())}/")
    settings = Settings(_env_file=None, redis_url=server.url, data_dir=work / f"data-{mode}", tiny_models_dir=tiny,
                        image_base_size=size, quota_enabled=False, progress_min_interval_s=0.0, poll_delay_s=0.05,
                        **extra)
    redis = await connect(settings)
    old_factory = blobs_module.build_media_store
    if mode == "redis":
        store: MediaStore = RedisBytesStore(redis, settings.key("blobdata"))
        blobs_module.build_media_store = lambda _s: store  # type: ignore[assignment]
    try:
        service = build_service(settings, redis)
        playground = WebPlayground(service)
        playground.consumer.block_ms = 50
        client = TestClient(TestServer(playground.build_app(), host="127.0.0.1"),
                            headers=playground.access.bearer_header())
        await client.start_server()
        try:
            async with running_worker(settings, pipelines):
                await asyncio.sleep(0.5)  # worker registered, playground consumer running
                before = await used_memory(redis)
                started = time.perf_counter()
                sent: list[tuple[str, str]] = []
                for i in range(jobs):
                    chat = f"bench{i % CHATS}"
                    answer = await send(client, chat, f"/imagine a lighthouse number {i} --seed {i}")
                    assert answer["ok"] and answer["job_id"], answer
                    sent.append((chat, answer["job_id"]))
                media_bytes = 0
                for chat, job_id in sent:
                    msg = await finished(client, chat, job_id, timeout=600)
                    assert not msg.get("error"), msg
                    for m in msg["media"]:
                        resp = await client.get(m["url"])
                        assert resp.status == 200, resp.status
                        media_bytes += len(await resp.read())
                elapsed = time.perf_counter() - started
                after = await used_memory(redis)
        finally:
            await client.close()
    finally:
        blobs_module.build_media_store = old_factory
        await redis.aclose()
        server.stop()
    return {"mode": mode, "before": before, "after": after, "media": media_bytes, "elapsed": elapsed}


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="reelsmith-bench-media-") as tmp:
        work = Path(tmp)
        tiny = build_tiny_models(work / "tiny")
        pipelines = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny, image_base_size=args.size))
        pipelines.warm_up()
        modes = args.modes.split(",")
        print(f"{args.jobs} image jobs ({args.size}px tiny model) through the playground, {CHATS} chats")
        print("| media in | used_memory before | after | growth | growth per job | media bytes served | wall |")
        print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
        with contextlib.ExitStack() as stack:
            endpoint = None
            if "s3" in modes:
                from tests.storage.s3_server import moto_server

                endpoint = stack.enter_context(moto_server())
            for mode in modes:
                _row(await run_mode(mode, args.jobs, args.size, work, tiny, pipelines, endpoint), args.jobs)
            if endpoint is not None:
                from core.storage.s3 import close_shared

                await close_shared()


def _row(r: dict[str, Any], jobs: int) -> None:
    growth = r["after"] - r["before"]
    print(f"| {r['mode']} | {r['before'] / 1e6:.2f} MB | {r['after'] / 1e6:.2f} MB | {growth / 1e6:.2f} MB | "
          f"{growth / jobs / 1e3:.1f} kB | {r['media'] / 1e6:.2f} MB | {r['elapsed']:.0f} s |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--modes", default="redis,filesystem,s3")
    ap.add_argument("--size", type=int, default=64, help="long side of the generated images in px")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
