"""Variants as a feature: the chat's default number of images, `/images`, and the per-image buttons under image
results: U1..U4 (upscale 2x), V1..V4 (vary, subtle), S1..S4 (vary, strong); with one image, one U, V and S."""

from __future__ import annotations

from collections.abc import Callable

from arq.connections import ArqRedis

from core.context import ChatContext
from core.contract import (
    ActionHandler,
    CommandCall,
    CommandSpec,
    Feature,
    Outcome,
    ResultButton,
    Row,
    Service,
    parse_image_ref,
)
from core.errors import Refusal, error_text
from core.i18n import N_
from core.moderation.toolkit import Moderation
from core.types import GenerationReply, GenerationRequest, Requester
from core.variants.defaults import MAX_IMAGES, ApplyDefault, ChatImages
from core.variants.derive import STRONG, SUBTLE, fresh, upscaled, varied
from core.variants.provenance import image_provenance_step

# (service, original, its reply, image index, who pressed) -> the new request
Derive = Callable[[Service, GenerationRequest, GenerationReply | None, int, Requester], GenerationRequest]


def _action(derive: Derive) -> ActionHandler:
    async def act(service: Service, requester: Requester, ctx: ChatContext, ref: str) -> Outcome:
        job_id, index = parse_image_ref(ref)
        try:
            original, reply = await service.job_for_button(requester, job_id)
            request = derive(service, original, reply, index, requester)
        except Refusal as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        return await service.enqueue(request, ctx)
    return act


def _is_image(reply: GenerationReply) -> bool:
    return not reply.kind.is_video and bool(reply.media) and reply.media[0].mime.startswith("image/")


USAGE = f"Usage: /images <1-{MAX_IMAGES}>: how many images /imagine and /edit make here without --n."


class ImagesCommand:
    """`/images` shows this chat's default; `/images N` (moderators) sets it."""

    def __init__(self, images: ChatImages, mod: Moderation) -> None:
        self.images = images
        self.mod = mod

    async def __call__(self, call: CommandCall) -> Outcome:
        arg = call.args.strip()
        scope = call.requester.scope
        if not arg:
            n = await self.images.get(scope)
            return Outcome(f"Here /imagine and /edit make {n} image{'s' * (n > 1)} per prompt "
                           f"(--n 1-{MAX_IMAGES} changes it for one command). {USAGE}", ok=True, private=True)
        if not arg.isdigit() or not 1 <= int(arg) <= MAX_IMAGES:
            return Outcome(error_text(f"{arg[:20]!r} is not a number from 1 to {MAX_IMAGES}. {USAGE}"),
                           ok=False, private=True)
        self.mod.require_moderator(call.requester, call.ctx, "/images")
        await self.images.set(scope, int(arg))
        return Outcome(f"Done: /imagine and /edit now make {arg} image{'s' * (int(arg) > 1)} per prompt here "
                       "(each costs one image's credits).", ok=True)


def variants_feature(redis: ArqRedis, mod: Moderation) -> Feature:
    """Replaces the built-in Variations with per-image V (subtle) and adds U (upscale) and S (strong vary)."""
    images = ChatImages(redis, mod.settings)
    return Feature(
        name="variants",
        command_steps=(ApplyDefault(images),),
        commands=(CommandSpec("images", ImagesCommand(images, mod),
                              f"images per prompt here (1-{MAX_IMAGES}); moderators: /images N"),),
        actions={
            "upscale": _action(lambda s, o, r, i, who: upscaled(s.settings, o, r, i, who)),
            "vary": _action(lambda _s, o, r, i, who: fresh(o, who) if o.kind.is_video
                            else varied(o, r, i, who, SUBTLE)),
            "varyx": _action(lambda _s, o, r, i, who: varied(o, r, i, who, STRONG)),
        },
        result_buttons=(
            ResultButton("upscale", N_("Upscale"), "\U0001f50d", row=Row.UPSCALE, show=_is_image, per_image=True,
                         short="U"),
            ResultButton("vary", N_("Variations"), "\U0001f3b2", row=Row.VARY, per_image=True,
                         short="V"),  # videos: rerolled
            ResultButton("varyx", N_("Vary (strong)"), "\U0001f300", row=Row.VARY_STRONG, show=_is_image,
                         per_image=True, short="S"),
        ),
        finalizers=(image_provenance_step(mod.settings, redis),),
    )
