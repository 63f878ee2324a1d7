"""The built-in result buttons: Reroll, Variations, Animate and Report (moderation's Report replaces the last).

Each new job a button makes is a fresh request from the original's settings, queued through the same
guards as a typed command.
"""

from __future__ import annotations

from collections.abc import Callable

from core.context import ChatContext
from core.contract import Feature, Outcome, ResultButton, Row, Service
from core.derive import fresh, result_image
from core.errors import Refusal, error_text
from core.i18n import N_
from core.service.grammar import frames_for
from core.types import GenerationReply, GenerationRequest, JobKind, Requester, size_for


async def _derived(service: Service, requester: Requester, ctx: ChatContext, job_id: str,
                   make: Callable[[GenerationRequest, GenerationReply | None], GenerationRequest]) -> Outcome:
    try:
        original, reply = await service.job_for_button(requester, job_id)
        request = make(original, reply)
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    return await service.enqueue(request, ctx)


async def reroll(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Same prompt and settings, new seed."""
    return await _derived(service, requester, ctx, job_id, lambda o, _r: fresh(o, requester))


async def vary(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """A close variation: the result re-rendered (image-to-image) with a new seed; videos are rerolled."""
    def make(o: GenerationRequest, r: GenerationReply | None) -> GenerationRequest:
        if o.kind.is_video:
            return fresh(o, requester)
        # The result already shows any meme captions: do not draw them twice.
        return fresh(o, requester, kind=JobKind.EDIT, references=[result_image(r).model_dump()],
                      meme_top="", meme_bottom="")
    return await _derived(service, requester, ctx, job_id, make)


async def animate_result(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Turn an image result into a video."""
    s = service.settings

    def make(o: GenerationRequest, r: GenerationReply | None) -> GenerationRequest:
        ref = result_image(r)
        width, height = size_for(o.aspect_ratio, s.video_size())
        frames = frames_for(None, None, s.video_fps, s.frames_default(), s.max_frames)
        # The image model that made it can't animate: the chat's video default settles the model (model="").
        return fresh(o, requester, kind=JobKind.ANIMATE, references=[ref.model_dump()], width=width,
                      height=height, num_frames=frames, fps=s.video_fps, meme_top="", meme_bottom="", model="",
                      cost_factor=1.0, n_images=1, strength=None)
    return await _derived(service, requester, ctx, job_id, make)


async def report_default(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Without the moderation feature: record the report for the owner."""
    try:
        await service.job_for_button(requester, job_id)
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    await service.redis.xadd(service.settings.key("reports"),
                             {"job_id": job_id, "by": requester.user_id, "chat": requester.chat_id})
    return Outcome("Thanks, the moderators will review this result.", ok=True, private=True)


def _image(reply: GenerationReply) -> bool:
    return not reply.kind.is_video


# Every service has these; features declared after it may replace one (moderation's Report).
BUTTONS = Feature(
    "buttons",
    actions={"reroll": reroll, "vary": vary, "animate": animate_result, "report": report_default},
    result_buttons=(
        ResultButton("reroll", N_("Reroll"), "\U0001f501"),
        ResultButton("vary", N_("Variations"), "\U0001f3b2"),
        ResultButton("animate", N_("Animate"), "\U0001f3ac", show=_image),
        ResultButton("report", N_("Report"), "\U0001f6a9", row=Row.MANAGE, private=True, queues=False),
    ),
)
