"""Blob metadata in Redis, bytes in the media store: expiry by sweeper (injected clock), budget, no bytes in Redis.

These run on the store the suite selects (REELSMITH_TEST_MEDIA_STORE), with the real embedded Redis.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from core.clock import ManualClock
from core.queue.blobs import BlobStore, MediaBudgetExceeded, Upload
from core.queue.connection import connect
from core.service.facade import Reelsmith
from core.settings import Settings
from core.storage import MediaStore, build_media_store


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    r = await connect(settings)
    yield r
    await r.aclose()


async def _redis_values(redis: Redis, settings: Settings) -> bytes:
    """Every value stored under this test's key prefix, concatenated."""
    out = b""
    async for key in redis.scan_iter(match=settings.key("*")):
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            out += b"".join(v for v in (await redis.hgetall(key)).values())
        elif kind == "zset":
            out += b"".join(m for m in await redis.zrange(key, 0, -1))
        elif kind == "string":
            out += await redis.get(key) or b""
    return out


async def test_bytes_live_in_the_store_and_redis_holds_only_metadata(redis: Redis, settings: Settings) -> None:
    blobs = BlobStore(redis, settings)
    data = os.urandom(50_000)
    blob = await blobs.put(data, "image/png", 600)
    assert await blobs.get(blob) == (data, "image/png")
    assert await blobs.store.exists(blob)
    info = await blobs.info(blob)
    assert info is not None and info.size == len(data) and info.mime == "image/png"
    assert data[:64] not in await _redis_values(redis, settings)
    assert await redis.memory_usage(settings.key("blob", blob)) < 1000


async def test_the_sweeper_deletes_expired_objects_by_the_index(redis: Redis, settings: Settings) -> None:
    clock = ManualClock()
    blobs = BlobStore(redis, settings, clock=clock)
    short = await blobs.put(b"short-lived", "image/png", 60)
    long = await blobs.put(b"kept longer", "image/png", 3600)
    clock.advance(59)
    assert await blobs.sweep_all() == 0 and await blobs.store.exists(short)
    clock.advance(2)
    assert await blobs.sweep_all() == 1
    assert not await blobs.store.exists(short) and await blobs.get(short) is None
    assert await blobs.get(long) == (b"kept longer", "image/png")
    clock.advance(3600)
    assert await blobs.sweep_all() == 1 and not await blobs.store.exists(long)
    assert await redis.zcard(settings.key("blob-expiry")) == 0


async def test_the_sweeper_takes_many_in_rounds(redis: Redis, settings: Settings) -> None:
    clock = ManualClock()
    blobs = BlobStore(redis, settings, clock=clock)
    ids = [await blobs.put(b"%d" % i, "text/plain", 10) for i in range(7)]
    clock.advance(11)
    assert await blobs.sweep(limit=3) == 3
    assert await blobs.sweep_all() == 4
    assert not any([await blobs.store.exists(i) for i in ids])


async def test_deleting_removes_bytes_metadata_index_and_budget(redis: Redis, settings: Settings) -> None:
    s = settings.model_copy(update={"media_user_bytes": 1000})
    blobs = BlobStore(redis, s)
    first = [Upload(blobs.new_id(), b"a" * 600, "image/png")]
    await blobs.put_owned("web:ann", first)
    with pytest.raises(MediaBudgetExceeded, match="already have"):
        await blobs.put_owned("web:ann", [Upload(blobs.new_id(), b"b" * 600, "image/png")])
    await blobs.delete([first[0].blob_id], owner="web:ann")
    assert not await blobs.store.exists(first[0].blob_id) and await blobs.get(first[0].blob_id) is None
    assert await redis.zcard(s.key("blob-expiry")) == 0
    again = [Upload(blobs.new_id(), b"c" * 600, "image/png")]
    await blobs.put_owned("web:ann", again)  # the room came back
    assert await blobs.get(again[0].blob_id) == (b"c" * 600, "image/png")


async def test_a_refused_upload_stores_no_bytes(redis: Redis, settings: Settings) -> None:
    s = settings.model_copy(update={"media_user_bytes": 100})
    blobs = BlobStore(redis, s)
    upload = Upload(blobs.new_id(), b"x" * 101, "image/png")
    with pytest.raises(MediaBudgetExceeded, match="more than"):
        await blobs.put_owned("web:bob", [upload])
    assert not await blobs.store.exists(upload.blob_id)
    assert await _redis_values(redis, s) == b""


class _BrokenStore:
    """A store whose writes fail after writing (a full disk, a dropped connection)."""

    def __init__(self, inner: MediaStore) -> None:
        self.inner = inner
        self.kind = inner.kind

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        await self.inner.put(object_id, data, mime)
        raise OSError("No space left on device")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_a_failed_write_leaves_neither_metadata_nor_bytes(redis: Redis, settings: Settings) -> None:
    inner = build_media_store(settings)
    blobs = BlobStore(redis, settings, store=_BrokenStore(inner))  # type: ignore[arg-type]
    upload = Upload(blobs.new_id(), b"y" * 10, "image/png")
    with pytest.raises(OSError, match="No space"):
        await blobs.put_owned("web:cy", [upload])
    assert not await inner.exists(upload.blob_id)
    assert await _redis_values(redis, settings) == b""


async def test_the_playground_streams_media_from_the_store(service: Reelsmith,
                                                          web_client: TestClient[Any, Any]) -> None:
    data = os.urandom(700_000)
    blob = await service.blobs.put(data, "video/mp4")
    resp = await web_client.get(f"/media/{blob}")
    assert resp.status == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert int(resp.headers["Content-Length"]) == len(data) and await resp.read() == data
    await service.blobs.delete([blob])
    assert (await web_client.get(f"/media/{blob}")).status == 404
    assert (await web_client.get("/media/..%2F..%2Fetc")).status == 404


async def test_the_playground_redirects_to_a_presigned_url_when_set(settings: Settings, s3_endpoint: str) -> None:
    import aiohttp

    from bots.web.app import WebPlayground
    from core.service.features import build_service
    from tests.conftest import s3_media_settings

    s = settings.model_copy(update={**s3_media_settings(s3_endpoint), "media_presign_ttl_s": 300})
    redis = await connect(s)
    try:
        service = build_service(s, redis)
        playground = WebPlayground(service)
        client = TestClient(TestServer(playground.build_app(), host="127.0.0.1"),
                            headers=playground.access.bearer_header())
        await client.start_server()
        try:
            blob = await service.blobs.put(b"a presigned picture", "image/png")
            resp = await client.get(f"/media/{blob}", allow_redirects=False)
            assert resp.status == 302
            url = resp.headers["Location"]
            assert url.startswith(s3_endpoint) and "X-Amz-Expires=300" in url
            async with aiohttp.ClientSession() as browser, browser.get(url) as fetched:
                assert fetched.status == 200 and await fetched.read() == b"a presigned picture"
            await service.blobs.delete([blob])
            assert (await client.get(f"/media/{blob}", allow_redirects=False)).status == 404  # gone: no URL
        finally:
            await client.close()
    finally:
        await redis.aclose()
