"""The chat's default number of images per prompt (moderators set it; `--n` overrides it) and the command step
that applies it."""

from __future__ import annotations

from arq.connections import ArqRedis

from core.contract import Shaping
from core.queue.connection import as_text
from core.settings import Settings
from core.types import GenerationRequest, JobKind

MULTI_KINDS = (JobKind.IMAGE, JobKind.EDIT)  # --n and the default apply to images only
MAX_IMAGES = 4


class ChatImages:
    """Per-scope default `n_images` in Redis (no expiry: a chat setting)."""

    def __init__(self, redis: ArqRedis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _key(self, scope: str) -> str:
        return self.settings.key("variants", "default_n", scope)

    async def get(self, scope: str) -> int:
        raw = await self.redis.get(self._key(scope))
        text = as_text(raw) if raw is not None else ""
        return int(text) if text.isdigit() and 1 <= int(text) <= MAX_IMAGES else 1

    async def set(self, scope: str, n: int) -> None:
        if n == 1:
            await self.redis.delete(self._key(scope))
        else:
            await self.redis.set(self._key(scope), str(n))


class ApplyDefault:
    """Command step: an /imagine or /edit without --n gets the chat's default number of images."""

    def __init__(self, images: ChatImages) -> None:
        self.images = images

    async def __call__(self, shaping: Shaping) -> GenerationRequest:
        request = shaping.request
        if shaping.n_given or request.kind not in MULTI_KINDS or request.meme_top or request.meme_bottom:
            return request
        n = await self.images.get(request.requester.scope)
        return request if n == request.n_images else request.model_copy(update={"n_images": n})
