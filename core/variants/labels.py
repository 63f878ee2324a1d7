"""Per-image captions of a several-image result: each keeps the AI label, and says which image and seed it is."""

from __future__ import annotations

from core.i18n import _
from core.types import GenerationReply


def image_caption(reply: GenerationReply, index: int, limit: int = 1024) -> str:
    """Image `index` (1-based): the reply's label line, then "image i of n, seed s" (the seeds run seed..seed+n-1).
    A one-image reply keeps its whole caption."""
    n = len(reply.media)
    if n <= 1:
        return reply.caption[:limit]
    label = reply.caption.split("\n", 1)[0]
    which = _("image {index} of {n}, seed {seed}", index=index, n=n, seed=(reply.seed + index - 1) % 2**32)
    return f"{label}\n{which}"[:limit]


def image_captions(reply: GenerationReply, limit: int = 1024) -> list[str]:
    """One caption per image, in order."""
    return [image_caption(reply, i, limit) for i in range(1, len(reply.media) + 1)]
