"""Blob store: media bytes in Redis under random keys with a TTL (references in, results out).

A member's attachments are stored against their byte budget (`media_user_bytes`): a sorted set per member
holds `<blob id>|<bytes>` scored by the blob's expiry, so an entry stops counting exactly when its blob
expires, and deleting a blob gives its bytes back at once.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from core.media.sizes import human_limit, human_size
from core.queue.connection import as_text
from core.settings import Settings

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


class MediaBudgetExceeded(Exception):
    """Storing these attachments would take the member over `media_user_bytes`; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BlobStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    def _key(self, blob_id: str) -> str:
        return self.settings.key("blob", blob_id)

    def _budget_key(self, owner: str) -> str:
        return self.settings.key("blob-bytes", owner)

    @staticmethod
    def new_id() -> str:
        """A fresh blob id (random, alphanumeric)."""
        return uuid.uuid4().hex

    async def put(self, data: bytes, mime: str, ttl_s: int | None = None) -> str:
        """Store bytes; returns the blob id."""
        blob_id = self.new_id()
        await self._write([Upload(blob_id, data, mime)], ttl_s or self.settings.blob_ttl_s)
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
            now_ms = int(time.time() * 1000)
            pairs = [str(x) for u in uploads for x in (u.blob_id, len(u.data))]
            ok, used, *wait = await self._reserve(keys=[self._budget_key(owner)],
                                                  args=[now_ms, now_ms + ttl * 1000, budget, *pairs])
            if not int(ok):
                raise MediaBudgetExceeded(budget_text(sum(len(u.data) for u in uploads), int(used), budget,
                                                      int(wait[0]) / 1000))
        try:
            await self._write(uploads, ttl)
        except BaseException:
            await self.delete([u.blob_id for u in uploads], owner=owner)
            raise

    async def _write(self, uploads: Sequence[Upload], ttl_s: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for u in uploads:
                pipe.hset(self._key(u.blob_id), mapping={"data": u.data, "mime": u.mime})
                pipe.expire(self._key(u.blob_id), ttl_s)
            await pipe.execute()

    async def get(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime type, or None when the blob has expired or never existed."""
        if not blob_id.isalnum():
            return None
        data, mime = await self.redis.hmget(self._key(blob_id), ["data", "mime"])
        if data is None:
            return None
        return bytes(data), as_text(mime or "")

    async def delete(self, blob_ids: list[str], owner: str | None = None) -> None:
        """Drop blobs that are no longer needed (e.g. the attachments of a refused request); with `owner`,
        their bytes count against that member's budget no more."""
        ids = [b for b in blob_ids if b.isalnum()]
        if not ids:
            return
        if owner is None:
            await self.redis.delete(*[self._key(b) for b in ids])
        else:
            await self._release(keys=[self._budget_key(owner), *[self._key(b) for b in ids]], args=ids)


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
