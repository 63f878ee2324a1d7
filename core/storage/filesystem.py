"""The embedded default media store: one file per object under the data dir, written atomically.

File work runs in threads (never on the event loop). An object is written to a temporary file beside its final
place and renamed over it, so a reader sees the whole object or none. Names are ids only (letters and digits),
fanned out into folders by their first two characters.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path
from typing import BinaryIO

from core.storage.media_store import CHUNK_BYTES, MediaObject, valid_id


class FilesystemStore:
    """Objects as files under `root`."""

    kind = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, object_id: str) -> Path:
        """Where an object lives; refuses anything but an id."""
        if not valid_id(object_id):
            raise ValueError(f"not a media id: {object_id!r}")
        return self.root / object_id[:2].lower() / object_id

    async def put(self, object_id: str, data: bytes | AsyncIterable[bytes], mime: str) -> int:
        final = self.path(object_id)
        part = final.with_name(f".{object_id}.{uuid.uuid4().hex}.part")
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        f: BinaryIO = await asyncio.to_thread(open, part, "xb")
        size = 0
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                size = len(data)
                await asyncio.to_thread(f.write, data)
            else:
                async for chunk in data:
                    size += len(chunk)
                    await asyncio.to_thread(f.write, chunk)
            await asyncio.to_thread(_finish, f)
            await asyncio.to_thread(os.replace, part, final)
        except BaseException:
            f.close()
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        return size

    async def open(self, object_id: str) -> MediaObject | None:
        if not valid_id(object_id):
            return None
        try:
            f: BinaryIO = await asyncio.to_thread(open, self.path(object_id), "rb")
        except FileNotFoundError:
            return None
        # An open file stays readable when the sweeper unlinks it meanwhile (POSIX).
        size = os.fstat(f.fileno()).st_size
        return MediaObject(size=size, chunks=_chunks(f), release=f.close, file=f)

    async def exists(self, object_id: str) -> bool:
        return valid_id(object_id) and await asyncio.to_thread(self.path(object_id).is_file)

    async def delete(self, object_ids: Sequence[str]) -> None:
        paths = [self.path(i) for i in object_ids if valid_id(i)]
        await asyncio.to_thread(_unlink_all, paths)

    async def presign(self, object_id: str, ttl_s: int, mime: str) -> str | None:
        return None  # files are served through the playground (streamed)


def _finish(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()


def _unlink_all(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


async def _chunks(f: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(f.read, CHUNK_BYTES):
            yield chunk
    finally:
        f.close()
