"""Vary (Region): `/edit <prompt>` with the picture and a black and white mask (white: repaint) becomes one
inpaint job on the picture, priced by the pixels it repaints."""

from __future__ import annotations

from core.canvas.compose import is_mask, white_pixels
from core.canvas.geometry import fitted
from core.contract import Shaping
from core.errors import CommandError
from core.media.untrusted import UntrustedMedia
from core.types import GenerationRequest, JobKind, MediaType

NOTHING_WHITE = ("Your mask is all black, so nothing would be repainted. Paint the area to change white "
                 "(black keeps) and send it again.")


async def mask_step(shaping: Shaping) -> GenerationRequest:
    """A command step: an /edit whose second image is a mask for its first becomes an inpaint job."""
    request = shaping.request
    images = [r for r in request.references if r.media_type == MediaType.IMAGE]
    if request.kind != JobKind.EDIT or len(images) < 2:
        return request
    source_ref, mask_ref = images[:2]
    source_data, mask_data = shaping.media.get(source_ref.blob_key), shaping.media.get(mask_ref.blob_key)
    if source_data is None or mask_data is None:
        return request
    media = UntrustedMedia(shaping.service.settings)
    source, mask = await media.image(source_data), await media.image(mask_data)
    if not is_mask(mask, source):
        return request  # two pictures: a plain edit of the first
    width, height = fitted(source.width, source.height, shaping.service.settings.upscale_side())
    repainted = white_pixels(mask, (width, height))
    if not repainted:
        raise CommandError(NOTHING_WHITE)
    return request.model_copy(update={"kind": JobKind.INPAINT, "references": [source_ref, mask_ref],
                                      "width": width, "height": height, "billed_pixels": repainted})
