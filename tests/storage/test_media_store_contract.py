"""What every media store promises (core/storage/media_store.py), run against the filesystem and the S3 store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.storage import MediaStore
from core.storage.filesystem import FilesystemStore
from core.storage.media_store import read_all
from core.storage.s3 import PART_BYTES


async def _stream(*chunks: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for i, chunk in enumerate(chunks):
        if fail_after is not None and i == fail_after:
            raise ConnectionResetError("the member's upload broke off")
        yield chunk


async def test_bytes_go_in_and_come_back_streamed(store: MediaStore) -> None:
    data = os.urandom(600_000)  # more than one read chunk
    assert await store.put("a1", data, "image/png") == len(data)
    obj = await store.open("a1")
    assert obj is not None and obj.size == len(data)
    chunks = [c async for c in obj.chunks]
    assert len(chunks) > 1 and b"".join(chunks) == data
    assert await store.exists("a1")


async def test_a_stream_goes_in_without_being_joined_first(store: MediaStore) -> None:
    # Past one multipart part for the S3 store, so its multipart path runs too.
    parts = [os.urandom(1024 * 1024) for _ in range(PART_BYTES // (1024 * 1024) + 2)]
    assert await store.put("big", _stream(*parts), "video/mp4") == sum(map(len, parts))
    assert await read_all(store, "big") == b"".join(parts)


async def test_a_broken_stream_leaves_no_object_not_even_part_of_one(store: MediaStore) -> None:
    parts = [os.urandom(1024 * 1024) for _ in range(PART_BYTES // (1024 * 1024) + 2)]
    with pytest.raises(ConnectionResetError):
        await store.put("half", _stream(*parts, fail_after=len(parts) - 1), "video/mp4")
    assert not await store.exists("half") and await store.open("half") is None
    if isinstance(store, FilesystemStore):
        assert [p.name for p in store.root.rglob("*") if p.is_file()] == []  # no temporary file left behind


async def test_rewriting_an_id_replaces_the_whole_object(store: MediaStore) -> None:
    await store.put("r1", b"old" * 1000, "text/plain")
    await store.put("r1", b"new", "text/plain")
    assert await read_all(store, "r1") == b"new"


async def test_missing_objects_read_as_none_and_delete_quietly(store: MediaStore) -> None:
    assert await store.open("nothere") is None and not await store.exists("nothere")
    await store.put("d1", b"x", "text/plain")
    await store.put("d2", b"y", "text/plain")
    await store.delete(["d1", "nothere", "d2"])
    assert not await store.exists("d1") and not await store.exists("d2")
    await store.delete([])


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 129, "a\x00b", "ünï"])
async def test_only_ids_name_objects(store: MediaStore, name: str) -> None:
    with pytest.raises(ValueError, match="not a media id"):
        await store.put(name, b"x", "text/plain")
    assert await store.open(name) is None and not await store.exists(name)
    await store.delete([name])  # ignored, never a path


async def test_presigned_urls_fetch_the_object_where_the_store_has_them(store: MediaStore) -> None:
    await store.put("p1", b"presigned bytes", "image/png")
    url = await store.presign("p1", 60, "image/png")
    if store.kind == "filesystem":
        assert url is None  # the playground streams files itself
        return
    assert url is not None
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200 and await resp.read() == b"presigned bytes"
        assert resp.headers["Content-Type"] == "image/png"


async def test_an_object_opened_and_left_unread_can_be_closed_and_deleted(store: MediaStore) -> None:
    await store.put("u1", b"z" * 1000, "image/png")
    obj = await store.open("u1")
    assert obj is not None
    await obj.aclose()  # a client that went away before the first byte: the file or connection is let go
    await store.delete(["u1"])
    assert await store.open("u1") is None
    if isinstance(store, FilesystemStore):
        assert [p for p in store.root.rglob("*") if p.is_file()] == []
