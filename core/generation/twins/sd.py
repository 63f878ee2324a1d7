"""Stable Diffusion 1.x / 2.x: the tiny SD-class text-to-image twin of the default set."""

from __future__ import annotations

from core.generation.tiny_models import build_image
from core.generation.twins import TwinSpec

TWINS = {"sd": TwinSpec(family="sd", kind="t2i", build=build_image)}
