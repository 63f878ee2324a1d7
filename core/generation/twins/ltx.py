"""LTX-Video 0.9.x and LTX-2: the default set's tiny LTX-Video twin and the tiny audio-video LTX-2."""

from __future__ import annotations

from pathlib import Path

from core.generation.tiny_ltx2 import build_tiny_ltx2
from core.generation.tiny_models import build_video
from core.generation.twins import TwinSpec


def _ltx2(path: Path) -> None:
    build_tiny_ltx2(path)


TWINS = {
    "ltx-video": TwinSpec(family="ltx-video", kind="t2v", build=build_video),
    "ltx-2": TwinSpec(family="ltx-2", kind="t2v", build=_ltx2),
}
