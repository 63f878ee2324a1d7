"""The Zoom out and Pan buttons: the result placed on a larger canvas, queued as one inpaint job priced by
its new pixels; and the Vary (Region) button, which says how to send a mask."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from PIL import Image

from core.canvas.compose import canvas_and_mask
from core.canvas.geometry import Placement, Side, pan, zoom_out
from core.context import ChatContext
from core.contract import ActionHandler, Outcome, Service
from core.derive import fresh, result_image
from core.errors import Refusal, error_text
from core.media.untrusted import UntrustedMedia
from core.models.catalog import catalog_for
from core.models.tasks import Task
from core.queue.blobs import Upload
from core.types import JobKind, MediaRef, MediaType, Requester

REGION_TEXT = ("To repaint part of this picture, reply to it with /edit and what to draw there, attaching a black "
               "and white mask of the same shape (white: repaint, black: keep). In the web playground, paint "
               "the mask with the brush under the picture.")


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def canvas_action(place: Callable[[int, int, int], Placement]) -> ActionHandler:
    """A button handler that puts the result on the canvas `place(width, height, cap)` gives and queues it."""

    async def handler(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            original, reply = await service.job_for_button(requester, job_id)
            source_ref = result_image(reply)
            if original.kind.is_video:
                raise Refusal("Zoom and Pan work on pictures.", "invalid")
            blob = await service.blobs.get(source_ref.blob_key)
            if blob is None:
                raise Refusal("That result is no longer stored. Send a new command.", "expired")
        except Refusal as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        source = await UntrustedMedia(service.settings).image(blob[0])
        placement = place(source.width, source.height, service.settings.upscale_side())
        canvas, mask = canvas_and_mask(source, placement)
        uploads = [Upload(service.blobs.new_id(), _png(image), "image/png") for image in (canvas, mask)]
        refs = [MediaRef(blob_key=u.blob_id, mime=u.mime, media_type=MediaType.IMAGE, name=name, size=len(u.data),
                         width=placement.size[0], height=placement.size[1])
                for u, name in zip(uploads, ("canvas.png", "mask.png"), strict=True)]
        # The model that made it keeps drawing where it can inpaint; else this chat's inpaint model decides.
        entry = catalog_for(service.settings).entry(original.model) if original.model else None
        model = original.model if entry is not None and entry.serves(Task.INPAINT) else ""
        request = fresh(original, requester, kind=JobKind.INPAINT, references=[r.model_dump() for r in refs],
                         width=placement.size[0], height=placement.size[1], billed_pixels=placement.new_pixels,
                         model=model, meme_top="", meme_bottom="")  # the source already shows its captions
        return await service.enqueue(request, ctx, uploads)

    return handler


def zoom(factor: float) -> ActionHandler:
    return canvas_action(lambda w, h, cap: zoom_out(w, h, factor, cap))


def pan_to(side: Side) -> ActionHandler:
    return canvas_action(lambda w, h, cap: pan(w, h, side, cap))


async def region_help(service: Service, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Vary (Region) needs a mask, which a button cannot carry: say how to send one."""
    try:
        await service.job_for_button(requester, job_id)
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    return Outcome(REGION_TEXT, ok=True, private=True)
