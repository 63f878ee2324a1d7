"""Blob store: media bytes in Redis under random keys with a TTL (references in, results out)."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from core.settings import Settings


class BlobStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _key(self, blob_id: str) -> str:
        return self.settings.key("blob", blob_id)

    async def put(self, data: bytes, mime: str, ttl_s: int | None = None) -> str:
        """Store bytes; returns the blob id."""
        blob_id = uuid.uuid4().hex
        key = self._key(blob_id)
        ttl = ttl_s or self.settings.blob_ttl_s
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"data": data, "mime": mime})
            pipe.expire(key, ttl)
            await pipe.execute()
        return blob_id

    async def get(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime type, or None when the blob has expired or never existed."""
        if not blob_id.isalnum():
            return None
        data, mime = await self.redis.hmget(self._key(blob_id), ["data", "mime"])
        if data is None:
            return None
        return bytes(data), (mime.decode() if isinstance(mime, bytes) else str(mime or ""))

    async def delete(self, blob_ids: list[str]) -> None:
        """Drop blobs that are no longer needed (e.g. the attachments of a refused request)."""
        keys = [self._key(b) for b in blob_ids if b.isalnum()]
        if keys:
            await self.redis.delete(*keys)
