"""New requests from one image of a finished result: upscaled 2x, or varied (image-to-image) subtly or strongly.

The same rules as the built-in buttons (`core.service.actions`): a fresh request from the original's settings,
new job id and seed, the guards decide again. Features sit below the service, so this is their small twin.
"""

from __future__ import annotations

from core.derive import fresh, result_image  # the variants' buttons derive their jobs as every button does
from core.errors import Refusal
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, Requester

UPSCALE_FACTOR = 2
UPSCALE_MULTIPLE = 8  # upscale sides are multiples of the VAEs' factor (as /upscale's)
SUBTLE = 0.35  # V: keeps the composition, changes details
STRONG = 0.7  # S: keeps the idea and the palette, redraws most of it


def upscaled(settings: Settings, original: GenerationRequest, reply: GenerationReply | None, index: int,
             requester: Requester) -> GenerationRequest:
    """Image `index`, 2x larger through the catalog's upscale task (model "": the chat's upscaler settles it)."""
    ref = result_image(reply, index)
    width, height = ref.width or 0, ref.height or 0
    cap = settings.upscale_side()
    if not (width and height) or max(width, height) * UPSCALE_FACTOR > cap:
        raise Refusal(f"That image is {width}x{height} px; upscaled results are at most {cap} px a side, so it "
                      "cannot be made 2x larger here.", "invalid")

    def snap(v: int) -> int:
        return max(UPSCALE_MULTIPLE, v * UPSCALE_FACTOR // UPSCALE_MULTIPLE * UPSCALE_MULTIPLE)
    return fresh(original, requester, kind=JobKind.UPSCALE, references=[ref.model_dump()], width=snap(width),
                 height=snap(height), n_images=1, strength=None, model="", cost_factor=1.0, meme_top="",
                 meme_bottom="", loras=[])


def varied(original: GenerationRequest, reply: GenerationReply | None, index: int, requester: Requester,
           strength: float) -> GenerationRequest:
    """Image `index` re-rendered image-to-image at `strength`, with a new seed; one image."""
    ref = result_image(reply, index)
    # The result already shows any meme captions: do not draw them twice.
    return fresh(original, requester, kind=JobKind.EDIT, references=[ref.model_dump()], n_images=1,
                 strength=strength, width=ref.width or original.width, height=ref.height or original.height,
                 meme_top="", meme_bottom="")
