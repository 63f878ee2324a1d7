"""The Extend button under video results: the clip continued for `extend_s` more seconds, as a new job."""

from __future__ import annotations

from core.context import ChatContext
from core.contract import Feature, Outcome, ResultButton, Service
from core.derive import kept_for
from core.errors import Refusal, error_text
from core.extend.request import extend_request
from core.i18n import N_
from core.types import GenerationReply, GenerationRequest, MediaRef, MediaType, Requester


async def _still_stored(service: Service, ref: MediaRef) -> bool:
    return await service.blobs.get(ref.blob_key) is not None


async def _soundtrack(service: Service, original: GenerationRequest) -> MediaRef | None:
    """The member's audio the source clip was made with, where it is still stored: the new part continues it."""
    ref = next((r for r in original.references if r.media_type == MediaType.AUDIO), None)
    return ref if ref is not None and await _still_stored(service, ref) else None


async def extend_result(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Queue the continuation of a video result (charged by the frames it adds; a repeated press is one press)."""
    try:
        original, reply = await service.job_for_button(requester, job_id)
        request = extend_request(service.settings, original, reply, requester,
                                 audio=await _soundtrack(service, original))
        if not await _still_stored(service, request.references[0]):
            raise Refusal(f"That video is too old to extend: results are kept for "
                          f"{kept_for(service.settings.result_ttl_s)}. Send a new /video command.", "expired")
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    return await service.enqueue(request, ctx)


def _video(reply: GenerationReply) -> bool:
    return reply.kind.is_video


def extend_feature() -> Feature:
    """The Extend action and its button (videos only)."""
    return Feature(
        name="extend",
        actions={"extend": extend_result},
        result_buttons=(ResultButton("extend", N_("Extend"), "\u23e9", show=_video),),
    )
