"""A provenance record per image of a several-image result: which job, which image, its seed, its file's hash.

The job's own record (core.labelling.provenance) says who asked, where and with which model; these say which of
its images a file is (`prov:image:<job id><index>`), kept as long as job records are."""

from __future__ import annotations

from typing import Any

from core.contract import Finalizer, image_ref
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest


def image_key(settings: Settings, job_id: str, index: int) -> str:
    return settings.key("prov", "image", image_ref(job_id, index))


def image_provenance_step(settings: Settings, redis: Any) -> Finalizer:
    async def record_images(request: GenerationRequest, reply: GenerationReply) -> None:
        if reply.error is not None or request.kind.is_video or len(reply.media) <= 1:
            return
        ttl = settings.provenance_retention_s
        async with redis.pipeline(transaction=True) as pipe:
            for i, media in enumerate(reply.media, start=1):
                key = image_key(settings, request.job_id, i)
                pipe.hset(key, mapping={"job_id": request.job_id, "index": str(i), "of": str(len(reply.media)),
                                        "seed": str((request.seed + i - 1) % 2**32), "blob": media.blob_key,
                                        "width": str(media.width), "height": str(media.height)})
                pipe.expire(key, ttl)
            await pipe.execute()

    return record_images
