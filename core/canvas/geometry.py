"""Where the source goes on a larger canvas: sizes snapped to the inpaint families' multiple, capped."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

# FLUX and SD3 need multiples of 16 (SD and SDXL of 8): 16 suits every family with an inpaint pipeline.
CANVAS_MULTIPLE = 16
Side = Literal["left", "right", "up", "down"]
PAN_GROWTH = 0.5  # a pan adds half the image on one side


@dataclass(frozen=True)
class Placement:
    """A canvas of `size` with the source resized to `source_size` at `offset` (left, top)."""

    size: tuple[int, int]
    source_size: tuple[int, int]
    offset: tuple[int, int]

    @property
    def new_pixels(self) -> int:
        """The pixels the model draws: the canvas less the source's area (what the job is priced by)."""
        return self.size[0] * self.size[1] - self.source_size[0] * self.source_size[1]


def _snap_up(value: float) -> int:
    return max(CANVAS_MULTIPLE, math.ceil(value / CANVAS_MULTIPLE - 1e-9) * CANVAS_MULTIPLE)


def _snap_down(value: float) -> int:
    return max(CANVAS_MULTIPLE, int(value // CANVAS_MULTIPLE) * CANVAS_MULTIPLE)


def _capped(width: int, height: int, cap: int) -> tuple[tuple[int, int], float]:
    """The canvas size within `cap` a side, and how much the source shrinks to fit it (1: not at all)."""
    scale = min(1.0, cap / max(width, height))
    if scale >= 1.0:
        return (width, height), 1.0
    return (_snap_down(width * scale), _snap_down(height * scale)), scale


def zoom_out(width: int, height: int, factor: float, cap: int) -> Placement:
    """The source centred on a canvas `factor` times its size (at most `cap` a side: the source shrinks)."""
    (cw, ch), scale = _capped(_snap_up(width * factor), _snap_up(height * factor), cap)
    sw, sh = max(1, round(width * scale)), max(1, round(height * scale))
    return Placement((cw, ch), (sw, sh), ((cw - sw) // 2, (ch - sh) // 2))


def pan(width: int, height: int, side: Side, cap: int) -> Placement:
    """The source against one edge of a canvas grown by half on `side` (at most `cap` a side)."""
    grow_x = side in ("left", "right")
    cw = _snap_up(width * (1 + PAN_GROWTH)) if grow_x else _snap_up(width)
    ch = _snap_up(height) if grow_x else _snap_up(height * (1 + PAN_GROWTH))
    (cw, ch), scale = _capped(cw, ch, cap)
    sw, sh = max(1, round(width * scale)), max(1, round(height * scale))
    x = cw - sw if side == "left" else 0 if side == "right" else (cw - sw) // 2
    y = ch - sh if side == "up" else 0 if side == "down" else (ch - sh) // 2
    return Placement((cw, ch), (sw, sh), (x, y))


def fitted(width: int, height: int, cap: int) -> tuple[int, int]:
    """A member's picture's size for repainting: within `cap` a side, snapped down to the multiple."""
    scale = min(1.0, cap / max(width, height))
    return _snap_down(width * scale), _snap_down(height * scale)
