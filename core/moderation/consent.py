"""Likeness and voice consent: verified avatars bound to a face, and members' grants of their likeness.

A member sends `/avatar` with a selfie; a platform moderator approves it (a button in the review chat, or
`/mod avatar approve <user>` by a configured owner/moderator or in the review chat), never the member
themself. The approval keeps the selfie's face embedding (core/moderation/identity.py), not the selfie: a face
in a reference must match it, or the avatar of a member who granted the requester their likeness
(`/consent grant`). Voice references need a verified avatar (unless the chat allows audio references for
everyone). The selfie is kept only until it is reviewed; a verified avatar records who approved it, in which
chat and when.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.clock import Clock, system_clock
from core.queue.blobs import BlobStore
from core.queue.connection import as_text
from core.settings import Settings


@dataclass(frozen=True)
class AvatarRequest:
    request_id: str
    platform: str
    user_id: str
    chat_id: str  # where the selfie was sent
    blob_id: str
    display_name: str = ""
    scope: str = ""  # the chat/server it was sent in (Requester.scope)
    embedding: list[float] = field(default_factory=list)  # the selfie's face (identity.find_faces)


@dataclass(frozen=True)
class Verification:
    """Who verified an avatar, where and when."""

    by: str
    platform: str
    chat: str  # the chat the decision was made in (the review chat, or an owner's chat)
    at: float


class Avatars:
    """Pending selfies (one per member and platform) and verified avatars, which hold on the whole platform."""

    def __init__(self, redis: Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self.grants = Grants(redis, settings)

    def _verified_key(self, platform: str, user_id: str) -> str:
        return self.settings.key("mod", "avatar", platform, user_id)

    def _request_key(self, request_id: str) -> str:
        return self.settings.key("mod", "avatar-req", request_id)

    def _pending_key(self, platform: str) -> str:
        return self.settings.key("mod", "avatar-pending", platform)

    async def submit(self, platform: str, user_id: str, chat_id: str, blob_id: str,
                     display_name: str = "", scope: str = "",
                     embedding: list[float] | None = None) -> AvatarRequest:
        """Record a selfie (and its face's embedding) awaiting review; a newer one replaces the member's older one."""
        req = AvatarRequest(secrets.token_hex(8), platform, user_id, chat_id, blob_id, display_name[:64],
                            scope or chat_id, list(embedding or []))
        ttl = self.settings.avatar_pending_ttl_s
        old = await self.redis.hget(self._pending_key(platform), user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            if old is not None:
                pipe.delete(self._request_key(as_text(old)))
            pipe.set(self._request_key(req.request_id), json.dumps(req.__dict__), ex=ttl)
            pipe.hset(self._pending_key(platform), user_id, req.request_id)
            pipe.expire(self._pending_key(platform), ttl)
            await pipe.execute()
        return req

    async def request(self, request_id: str) -> AvatarRequest | None:
        if not request_id.isalnum():
            return None
        raw = await self.redis.get(self._request_key(request_id))
        return AvatarRequest(**json.loads(raw)) if raw else None

    async def pending_for(self, platform: str, user_id: str) -> AvatarRequest | None:
        rid = await self.redis.hget(self._pending_key(platform), user_id)
        return None if rid is None else await self.request(as_text(rid))

    async def pending(self, platform: str, scope: str | None = None) -> list[str]:
        """Members with a selfie awaiting review: all of the platform's, or those sent in one scope."""
        raw = await self.redis.hgetall(self._pending_key(platform))
        users = []
        for rid in raw.values():
            req = await self.request(as_text(rid))
            if req is not None and (scope is None or req.scope == scope):
                users.append(req.user_id)
        return sorted(users)

    async def decide(self, req: AvatarRequest, approve: bool, by: str, chat: str) -> bool:
        """Approve or reject a pending selfie; False if someone already decided it. The selfie is deleted."""
        if not await self.redis.delete(self._request_key(req.request_id)):
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._pending_key(req.platform), req.user_id)
            if approve:
                pipe.set(self._verified_key(req.platform, req.user_id),
                         json.dumps({"by": by, "platform": req.platform, "chat": chat, "at": self.clock(),
                                     "selfie_chat": req.chat_id, "embedding": req.embedding}))
            await pipe.execute()
        await BlobStore(self.redis, self.settings).delete([req.blob_id])  # the selfie itself
        return True

    async def revoke(self, platform: str, user_id: str) -> bool:
        return bool(await self.redis.delete(self._verified_key(platform, user_id)))

    async def verified(self, platform: str, user_id: str) -> bool:
        return bool(await self.redis.exists(self._verified_key(platform, user_id)))

    async def embedding(self, platform: str, user_id: str) -> list[float] | None:
        """The face of the member's verified avatar; None if unverified or verified before faces were kept."""
        raw = await self.redis.get(self._verified_key(platform, user_id))
        if raw is None:
            return None
        vector = json.loads(raw).get("embedding") or []
        return [float(v) for v in vector] or None

    async def verification(self, platform: str, user_id: str) -> Verification | None:
        """Who approved the member's avatar, where and when; None if it is not verified."""
        raw = await self.redis.get(self._verified_key(platform, user_id))
        if raw is None:
            return None
        data = json.loads(raw)
        return Verification(str(data.get("by", "")), str(data.get("platform", platform)), str(data.get("chat", "")),
                            float(data.get("at", 0)))


class Grants:
    """Who may use whose likeness: a member grants (and revokes) others the use of their own face.

    Platform-wide like avatars. Stored both ways (granter -> grantees for /consent list, grantee -> granters
    for the guard), and read per request, so a revocation stops the next job at once.
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _given_key(self, platform: str, granter: str) -> str:
        return self.settings.key("mod", "consent-given", platform, granter)

    def _held_key(self, platform: str, grantee: str) -> str:
        return self.settings.key("mod", "consent-held", platform, grantee)

    async def grant(self, platform: str, granter: str, grantee: str) -> bool:
        """False if it was already granted."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._given_key(platform, granter), grantee)
            pipe.sadd(self._held_key(platform, grantee), granter)
            added, _ = await pipe.execute()
        return bool(added)

    async def revoke(self, platform: str, granter: str, grantee: str) -> bool:
        """False if there was nothing to revoke."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(self._given_key(platform, granter), grantee)
            pipe.srem(self._held_key(platform, grantee), granter)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def given(self, platform: str, granter: str) -> list[str]:
        """Members the granter lets use their likeness."""
        return sorted(as_text(m) for m in await self.redis.smembers(self._given_key(platform, granter)))

    async def granters(self, platform: str, grantee: str) -> list[str]:
        """Members whose likeness the grantee may use."""
        return sorted(as_text(m) for m in await self.redis.smembers(self._held_key(platform, grantee)))
