"""Blob store: media metadata in Redis (ids, size, type, expiry), bytes in the media store (core/storage).

References come in and results go out through here. Redis holds per blob a small hash (`blob:<id>`: mime, size,
expiry; its TTL is the blob's), an expiry index (`blob-expiry`, a sorted set of ids scored by expiry in ms) from
which the sweeper deletes expired objects, and per member a byte budget (`media_user_bytes`): a sorted set holding
`<blob id>|<bytes>` scored by the blob's expiry, so an entry stops counting exactly when its blob expires, and
deleting a blob gives its bytes back at once. The bytes never enter Redis.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from core.clock import Clock, system_clock
from core.media.sizes import human_limit, human_size
from core.queue.connection import as_text
from core.settings import Settings
from core.storage.media_store import MediaObject, MediaStore, build_media_store, valid_id

log = logging.getLogger(__name__)
# KEYS: 1 the owner's budget zset. ARGV: 1 now ms, 2 expiry ms of the new blobs, 3 budget bytes,
# 4.. blob id, bytes pairs. Returns {1, used after} when reserved, {0, used, ms until enough is free or -1}.
_RESERVE_LUA = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function size(member) return tonumber(string.match(member, '|(%d+)$')) end
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + size(entries[i]) end
local adding = 0
for i = 4, #ARGV, 2 do adding = adding + tonumber(ARGV[i + 1]) end
local budget = tonumber(ARGV[3])
if used + adding > budget then
  local left = used
  for i = 1, #entries, 2 do
    left = left - size(entries[i])
    if left + adding <= budget then return {0, used, tonumber(entries[i + 1]) - now} end
  end
  return {0, used, -1}
end
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[i] .. '|' .. ARGV[i + 1]) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return {1, used + adding}
"""

# KEYS: 1 the owner's budget zset, 2.. blob keys. ARGV: the blob ids. Deletes the blobs and their entries.
_RELEASE_LUA = """
local gone = {}
for i = 1, #ARGV do gone[ARGV[i]] = true end
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if gone[string.match(member, '^(.-)|')] then redis.call('ZREM', KEYS[1], member) end
end
if #KEYS > 1 then redis.call('DEL', unpack(KEYS, 2)) end
return 1
"""


@dataclass(frozen=True)
class Upload:
    """An attachment checked in memory, with the blob id it will be stored under once its request may go on."""

    blob_id: str
    data: bytes
    mime: str


@dataclass(frozen=True)
class BlobInfo:
    """What Redis knows of a stored blob."""

    blob_id: str
    mime: str
    size: int
    expires_at: float


class MediaBudgetExceeded(Exception):
    """Storing these attachments would take the member over `media_user_bytes`; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BlobStore:
    """Media by blob id: bytes in `store`, metadata and expiry in Redis."""

    def __init__(self, redis: Redis, settings: Settings, store: MediaStore | None = None,
                 clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.store = store or build_media_store(settings)
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    def _key(self, blob_id: str) -> str:
        return self.settings.key("blob", blob_id)

    def _budget_key(self, owner: str) -> str:
        return self.settings.key("blob-bytes", owner)

    @property
    def _index_key(self) -> str:
        return self.settings.key("blob-expiry")

    @staticmethod
    def new_id() -> str:
        """A fresh blob id (random, alphanumeric)."""
        return uuid.uuid4().hex

    async def put(self, data: bytes | AsyncIterable[bytes], mime: str, ttl_s: int | None = None) -> str:
        """Store bytes (or a stream of them); returns the blob id."""
        blob_id = self.new_id()
        ttl = ttl_s or self.settings.blob_ttl_s
        await self._index([blob_id], ttl)
        try:
            size = await self.store.put(blob_id, data, mime)
            await self._describe([(blob_id, mime, size)], ttl)
        except BaseException:
            await self.delete([blob_id])
            raise
        return blob_id

    async def put_owned(self, owner: str, uploads: Sequence[Upload]) -> None:
        """Store a member's attachments under their byte budget: all of them, or none.

        Raises MediaBudgetExceeded (nothing stored) when they do not fit next to what `owner` already has.
        """
        if not uploads:
            return
        ttl = self.settings.blob_ttl_s
        budget = self.settings.media_user_bytes
        if budget:
            now_ms = int(self.clock() * 1000)
            pairs = [str(x) for u in uploads for x in (u.blob_id, len(u.data))]
            ok, used, *wait = await self._reserve(keys=[self._budget_key(owner)],
                                                  args=[now_ms, now_ms + ttl * 1000, budget, *pairs])
            if not int(ok):
                raise MediaBudgetExceeded(budget_text(sum(len(u.data) for u in uploads), int(used), budget,
                                                      int(wait[0]) / 1000))
        try:
            await self._index([u.blob_id for u in uploads], ttl)
            for u in uploads:
                await self.store.put(u.blob_id, u.data, u.mime)
            await self._describe([(u.blob_id, u.mime, len(u.data)) for u in uploads], ttl)
        except BaseException:
            await self.delete([u.blob_id for u in uploads], owner=owner)
            raise

    async def _index(self, blob_ids: list[str], ttl_s: int) -> None:
        # Indexed before the bytes are written: an object whose writer dies is still swept when it expires.
        expires_ms = int((self.clock() + ttl_s) * 1000)
        await self.redis.zadd(self._index_key, dict.fromkeys(blob_ids, expires_ms))

    async def _describe(self, blobs: Sequence[tuple[str, str, int]], ttl_s: int) -> None:
        # Written after the bytes: a reader that finds the metadata finds the whole object.
        expires = self.clock() + ttl_s
        async with self.redis.pipeline(transaction=True) as pipe:
            for blob_id, mime, size in blobs:
                pipe.hset(self._key(blob_id), mapping={"mime": mime, "size": size, "expires": f"{expires:.3f}"})
                pipe.expire(self._key(blob_id), ttl_s)
            await pipe.execute()

    async def info(self, blob_id: str) -> BlobInfo | None:
        """Metadata of a live blob, or None when it has expired, been deleted or never existed."""
        if not valid_id(blob_id):
            return None
        mime, size, expires = await self.redis.hmget(self._key(blob_id), ["mime", "size", "expires"])
        if size is None:
            return None
        return BlobInfo(blob_id, as_text(mime or ""), int(size), float(expires or 0))

    async def get(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime type, or None when the blob has expired or never existed."""
        opened = await self.open(blob_id)
        if opened is None:
            return None
        info, obj = opened
        return await obj.read_and_close(), info.mime

    async def open(self, blob_id: str) -> tuple[BlobInfo, MediaObject] | None:
        """Metadata and the bytes as a stream (close it when not read to the end), or None."""
        info = await self.info(blob_id)
        if info is None:
            return None
        obj = await self.store.open(blob_id)
        return None if obj is None else (info, obj)

    async def url(self, blob_id: str, ttl_s: int) -> str | None:
        """A presigned URL for a live blob when the store hands them out, else None."""
        info = await self.info(blob_id)
        return None if info is None else await self.store.presign(blob_id, ttl_s, info.mime)

    async def delete(self, blob_ids: list[str], owner: str | None = None) -> None:
        """Drop blobs that are no longer needed (e.g. the attachments of a refused request); with `owner`,
        their bytes count against that member's budget no more."""
        ids = [b for b in blob_ids if valid_id(b)]
        if not ids:
            return
        if owner is None:
            await self.redis.delete(*[self._key(b) for b in ids])
        else:
            await self._release(keys=[self._budget_key(owner), *[self._key(b) for b in ids]], args=ids)
        await self.store.delete(ids)
        await self.redis.zrem(self._index_key, *ids)

    async def sweep(self, limit: int = 500) -> int:
        """Delete the objects of blobs whose expiry has passed (by the injected clock); returns how many.

        Objects go before their index entries, so a sweep that dies halfway is finished by the next one; two
        workers sweeping at once only delete the same objects twice.
        """
        now_ms = int(self.clock() * 1000)
        raw = await self.redis.zrangebyscore(self._index_key, "-inf", now_ms, start=0, num=limit)
        ids = [as_text(r) for r in raw]
        if not ids:
            return 0
        await self.store.delete(ids)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*[self._key(b) for b in ids])
            pipe.zrem(self._index_key, *ids)
            await pipe.execute()
        return len(ids)

    async def sweep_all(self) -> int:
        """Sweep until nothing expired is left; returns how many objects were deleted."""
        total = 0
        while n := await self.sweep():
            total += n
        return total


def budget_text(adding: int, used: int, budget: int, wait_s: float) -> str:
    """The refusal a member reads when their attachments do not fit their storage budget."""
    limit = f"{human_limit(budget)} of attachments stored at once per member"
    if wait_s < 0:
        return (f"These attachments are {human_size(adding)}, more than the {limit}. "
                "Send smaller or fewer files. Nothing was charged.")
    return (f"These attachments are {human_size(adding)} and you already have {human_size(used)} stored from "
            "recent requests; "
            f"the limit is {limit}. Room comes back as those expire (enough in {_wait(wait_s)}), or send smaller "
            "or fewer files now. Nothing was charged.")


def _wait(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if m else f"{h} h"
