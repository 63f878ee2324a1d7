"""The media store interface: bytes of references and results by id, streamed in and out.

A store knows nothing of owners, budgets or expiry: those are metadata in Redis (core/queue/blobs.py), which
also deletes expired objects through its expiry index (the sweeper). Ids are the only names a store takes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from core.settings import Settings

# Blob ids are random hex (BlobStore.new_id); anything else is refused before it can name a path or key.
_ID_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")

CHUNK_BYTES = 256 * 1024
"""Size of the pieces a stored object is streamed out in."""


def valid_id(object_id: str) -> bool:
    """Whether `object_id` may name a stored object (letters and digits only: no path, no traversal)."""
    return bool(_ID_RE.match(object_id))


@dataclass
class MediaObject:
    """An object opened for reading: its size and its bytes as a stream (close it if not read to the end)."""

    size: int
    chunks: AsyncIterator[bytes]
    release: Callable[[], None] | None = None
    """Frees what the open object holds (a file, a connection), read to the end or not; called by aclose."""
    file: BinaryIO | None = None
    """The store's own seekable local file of the object (the filesystem store), for senders that read a file
    themselves (`core.storage.spool.seekable`); None where the bytes come only as a stream (S3). Read it or
    `chunks`, not both; `aclose` closes it."""

    async def read(self) -> bytes:
        """All of it, at once (for consumers that need the whole file, such as decoders)."""
        return b"".join([chunk async for chunk in self.chunks])

    async def read_and_close(self) -> bytes:
        """All of it, and the object closed whatever happens (for consumers done with it after one read)."""
        try:
            return await self.read()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        if self.release is not None:  # a stream never started runs no finally of its own
            self.release()


class MediaStore(Protocol):
    """Bytes by id. Writes are all-or-nothing: a reader never sees part of an object."""

    kind: str

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        """Store `data` (bytes, or chunks streamed from an async iterator) under `object_id`; returns its size."""
        ...

    async def open(self, object_id: str) -> MediaObject | None:
        """The object as a stream, or None when there is none by that id."""
        ...

    async def exists(self, object_id: str) -> bool:
        ...

    async def delete(self, object_ids: Sequence[str]) -> None:
        """Remove objects; ids with no object are ignored."""
        ...

    async def presign(self, object_id: str, ttl_s: int, mime: str) -> str | None:
        """A URL a browser may fetch the object from for `ttl_s`, or None when the store cannot hand one out."""
        ...


async def read_all(store: MediaStore, object_id: str) -> bytes | None:
    """The whole object, or None."""
    obj = await store.open(object_id)
    return None if obj is None else await obj.read_and_close()


def build_media_store(settings: Settings) -> MediaStore:
    """The store `settings.media_store` selects. The S3 client is imported only when it is selected, so the
    embedded default needs nothing installed beyond the base dependencies."""
    if settings.media_store == "s3":
        from core.storage.s3 import shared_s3_store

        return shared_s3_store(settings)
    from core.storage.filesystem import FilesystemStore

    return FilesystemStore(settings.resolved_media_dir())
