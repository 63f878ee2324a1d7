"""`core.storage.spool.seekable`: a stored object as a seekable file without holding it whole in memory."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from core.storage import MediaStore
from core.storage.filesystem import FilesystemStore
from core.storage.media_store import MediaObject
from core.storage.spool import SPOOL_MEMORY_BYTES, seekable

LARGE = 30 * 1024 * 1024


async def test_an_object_comes_as_a_seekable_file_that_can_be_read_twice(store: MediaStore) -> None:
    await store.put("s1", b"0123456789" * 1000, "video/mp4")
    obj = await store.open("s1")
    assert obj is not None
    async with seekable(obj) as f:
        assert f.read() == b"0123456789" * 1000
        f.seek(0)  # what a client does before it retries an upload
        assert f.read(10) == b"0123456789"
    assert f.closed


async def test_the_filesystem_store_hands_over_its_own_file(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await store.put("s2", b"abc", "image/png")
    obj = await store.open("s2")
    assert obj is not None and obj.file is not None
    async with seekable(obj) as f:
        assert f is obj.file and f.read() == b"abc"


def _generated(size: int) -> AsyncIterator[bytes]:
    """`size` bytes in 256 KiB chunks, made on the fly (a stream such as an S3 body's)."""
    chunk = b"\x5a" * (256 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(size // len(chunk)):
            yield bytes(chunk)  # a fresh object each time, as a network read gives

    return stream()


async def _peak_while_reading(obj: MediaObject) -> tuple[int, int, bytes]:
    """(peak traced bytes, size seen through the file, its first bytes) while `obj` is made a file and sent."""
    tracemalloc.start()
    try:
        async with seekable(obj) as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(0)
            first = f.read(4096)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size, first


async def test_a_large_stream_is_spooled_to_disk_not_to_memory() -> None:
    obj = MediaObject(size=LARGE, chunks=_generated(LARGE))
    peak, size, first = await _peak_while_reading(obj)
    print(f"seekable(stream): peak {peak} traced bytes for {LARGE}")
    assert size == LARGE and first == b"\x5a" * 4096
    assert peak < 4 * SPOOL_MEMORY_BYTES, f"peak {peak} bytes traced while spooling a {LARGE}-byte object"


async def test_a_large_file_of_the_filesystem_store_is_not_read_at_all(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await store.put("big", _generated(LARGE), "video/mp4")
    obj = await store.open("big")
    assert obj is not None and obj.size == LARGE
    peak, size, first = await _peak_while_reading(obj)
    print(f"seekable(filesystem): peak {peak} traced bytes for {LARGE}")
    assert size == LARGE and first == b"\x5a" * 4096
    assert peak < SPOOL_MEMORY_BYTES, f"peak {peak} bytes traced while opening a {LARGE}-byte file"
