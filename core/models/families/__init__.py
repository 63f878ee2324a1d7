"""The families Reelsmith knows, one module each, and lookups by name and by loaded pipeline class.

A family that is not here is not advertised; adding one is a module here (its declaration), its tiny twin
in `core.generation.twins`, and end-to-end tests of every task it claims.
"""

from __future__ import annotations

from collections.abc import Callable

from core.models.families.cogvideox import COGVIDEOX
from core.models.families.flux import FLUX
from core.models.families.hunyuanvideo import HUNYUANVIDEO
from core.models.families.ltx import LTX_VIDEO
from core.models.families.ltx2 import LTX_2
from core.models.families.sd import STABLE_DIFFUSION
from core.models.families.sd3 import SD3
from core.models.families.sd_upscale import SD_UPSCALE
from core.models.families.sdxl import SDXL
from core.models.families.wan import WAN
from core.models.family import Checkpoint, Family

FAMILIES: dict[str, Family] = {f.name: f for f in (
    STABLE_DIFFUSION, SDXL, SD3, FLUX, SD_UPSCALE, LTX_VIDEO, LTX_2, WAN, COGVIDEOX, HUNYUANVIDEO,
)}


def family_named(name: str) -> Family | None:
    return FAMILIES.get(name)


def family_for_class(
    pipeline_class: str, *, video: bool | None = None, value: Callable[[str], object] | None = None
) -> tuple[Family, Checkpoint] | None:
    """The family and checkpoint kind of a base pipeline loaded as `pipeline_class` (None: unknown).

    `value(key)` reads its config values, telling apart kinds that load as one class (`Checkpoint.match`).
    """
    for family in FAMILIES.values():
        if video is not None and family.is_video != video:
            continue
        checkpoint = family.checkpoint_for_class(pipeline_class, value)
        if checkpoint is not None:
            return family, checkpoint
    return None
