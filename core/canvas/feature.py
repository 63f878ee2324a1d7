"""Canvas as a feature: the Zoom out / Pan / Vary (Region) buttons under image results, and /edit with a mask."""

from __future__ import annotations

from core.canvas.actions import pan_to, region_help, zoom
from core.canvas.region import mask_step
from core.contract import Feature, ResultButton, Row
from core.i18n import N_
from core.types import GenerationReply

ZOOM_ROW, PAN_ROW = Row.CANVAS, Row.PAN


def _image(reply: GenerationReply) -> bool:
    """One image: a several-image result is upscaled or varied first (U1..U4, V1..V4), then zoomed."""
    return not reply.kind.is_video and len(reply.media) <= 1


def canvas_feature() -> Feature:
    """Zoom out 1.5x / 2x and Vary (Region) in one row, Pan in four directions in the next."""
    return Feature(
        "canvas",
        command_steps=(mask_step,),
        actions={"zoom_half": zoom(1.5), "zoom_double": zoom(2.0), "pan_left": pan_to("left"),
                 "pan_right": pan_to("right"), "pan_up": pan_to("up"), "pan_down": pan_to("down"),
                 "region": region_help},
        result_buttons=(
            ResultButton("zoom_half", N_("Zoom out 1.5x"), "\U0001f50d", row=ZOOM_ROW, show=_image),
            ResultButton("zoom_double", N_("Zoom out 2x"), "\U0001f50e", row=ZOOM_ROW, show=_image),
            ResultButton("region", N_("Vary (Region)"), "\U0001f58c", row=ZOOM_ROW, show=_image, private=True,
                         queues=False),
            ResultButton("pan_left", "\u2b05", row=PAN_ROW, show=_image),
            ResultButton("pan_right", "\u27a1", row=PAN_ROW, show=_image),
            ResultButton("pan_up", "\u2b06", row=PAN_ROW, show=_image),
            ResultButton("pan_down", "\u2b07", row=PAN_ROW, show=_image),
        ),
    )
