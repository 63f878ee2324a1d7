"""A member's recent results as Telegram file_ids, for inline mode's cached results.

Every result the bot posts (in a chat, or uploaded for an inline message) is remembered here by the file_id
Telegram gave it, newest first, for as long as results are kept; a deleted result is forgotten.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from arq.connections import ArqRedis
from telegram import Message

from core.queue import as_text
from core.settings import Settings


@dataclass(frozen=True)
class Recent:
    job_id: str
    kind: str  # "photo" | "video" | "animation" | "document"
    file_id: str
    caption: str


def file_of(message: Message) -> tuple[str, str] | None:
    """(kind, file_id) of the media a message the bot sent carries."""
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.video is not None:
        return "video", message.video.file_id
    if message.animation is not None:
        return "animation", message.animation.file_id
    if message.document is not None:
        return "document", message.document.file_id
    return None


class RecentResults:
    def __init__(self, redis: ArqRedis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _key(self, user_id: str) -> str:
        return self.settings.key("telegram", "recent", user_id)

    async def remember(self, user_id: str, job_id: str, message: Message, caption: str) -> None:
        found = file_of(message)
        keep = self.settings.telegram_inline_recent
        if found is None or keep == 0 or not user_id.isdigit():
            return
        entry = json.dumps(asdict(Recent(job_id, found[0], found[1], caption[:1024])))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self._key(user_id), entry)
            pipe.ltrim(self._key(user_id), 0, keep * 3)  # several images per job: keep some spare
            pipe.expire(self._key(user_id), self.settings.result_ttl_s)
            await pipe.execute()

    async def recent(self, user_id: str) -> list[Recent]:
        """Newest first, one per job."""
        raw = await self.redis.lrange(self._key(user_id), 0, -1)
        out: list[Recent] = []
        seen: set[str] = set()
        for item in raw:
            r = Recent(**json.loads(as_text(item)))
            if r.job_id not in seen:
                seen.add(r.job_id)
                out.append(r)
        return out[: self.settings.telegram_inline_recent]

    async def forget(self, user_id: str, job_id: str) -> None:
        """A deleted result is no longer offered."""
        for item in await self.redis.lrange(self._key(user_id), 0, -1):
            if json.loads(as_text(item)).get("job_id") == job_id:
                await self.redis.lrem(self._key(user_id), 0, item)
