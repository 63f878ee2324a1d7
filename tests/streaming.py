"""A counting wrapper around a media store, for tests that a sender streams a stored object (never joins it).

`CountingStore` hands out the objects of the store it wraps with their chunks and their file counted: the
largest single read, and the bytes read in all. `no_whole_reads` makes `MediaObject.read` (the whole object at
once) fail, so a path that still joins an object shows up as an error, not as a silently passing test.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.storage.media_store import MediaObject, MediaStore


@dataclass
class Reads:
    largest: int = 0
    total: int = 0
    opened: list[str] = field(default_factory=list)

    def saw(self, n: int) -> None:
        self.largest = max(self.largest, n)
        self.total += n


class _CountingReader(io.BufferedReader):
    """The store's file, reopened through a reader that counts what each read returns."""

    def __init__(self, path: str, reads: Reads) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._reads = reads

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self._reads.saw(len(data))
        return data

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        self._reads.saw(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n = super().readinto(buffer)
        self._reads.saw(n)
        return n


class CountingStore:
    """`inner`, with every object it opens counted in `reads`."""

    def __init__(self, inner: MediaStore) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.reads = Reads()

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        return await self.inner.put(object_id, data, mime)

    async def open(self, object_id: str) -> MediaObject | None:
        obj = await self.inner.open(object_id)
        if obj is None:
            return None
        self.reads.opened.append(object_id)
        reads = self.reads

        async def counted(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            async for chunk in chunks:
                reads.saw(len(chunk))
                yield chunk

        file = None
        if obj.file is not None:
            file = _CountingReader(obj.file.name, reads)  # type: ignore[arg-type]
            inner_release = obj.release

            def release() -> None:
                file.close()
                if inner_release is not None:
                    inner_release()

            return MediaObject(obj.size, counted(obj.chunks), release, file)
        return MediaObject(obj.size, counted(obj.chunks), obj.release, None)

    async def exists(self, object_id: str) -> bool:
        return await self.inner.exists(object_id)

    async def delete(self, object_ids: Sequence[str]) -> None:
        await self.inner.delete(object_ids)

    async def presign(self, object_id: str, ttl_s: int, mime: str) -> str | None:
        return await self.inner.presign(object_id, ttl_s, mime)


@contextmanager
def no_whole_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While active, reading a stored object whole (`MediaObject.read`) raises."""
    async def refuse(self: MediaObject) -> bytes:
        raise AssertionError(f"a {self.size}-byte object was read whole into memory")

    with monkeypatch.context() as m:
        m.setattr(MediaObject, "read", refuse)
        yield
