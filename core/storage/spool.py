"""A stored object as a seekable file, for senders that upload from a file (discord.py, python-telegram-bot).

Platform clients send a file object in chunks and seek back to its start on a retry, so they need a real,
seekable file rather than a stream. The filesystem store hands over its own open file (nothing is copied); an
S3 object is spooled to a temporary file, in memory only up to `SPOOL_MEMORY_BYTES`, on disk beyond that. Either
way the object is never held whole in memory.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import BinaryIO, cast

from core.storage.media_store import MediaObject

SPOOL_MEMORY_BYTES = 1024 * 1024
"""How much of a spooled object stays in memory before the temporary file goes to disk."""


@asynccontextmanager
async def seekable(obj: MediaObject) -> AsyncIterator[BinaryIO]:
    """`obj` as a seekable binary file at its start; the file and the object are closed on exit."""
    try:
        if obj.file is not None:
            await asyncio.to_thread(obj.file.seek, 0)
            yield obj.file
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, prefix="reelsmith-spool-") as tmp:
            async for chunk in obj.chunks:
                await asyncio.to_thread(tmp.write, chunk)
            tmp.seek(0)
            yield cast(BinaryIO, tmp)
    finally:
        await obj.aclose()
