"""Tiny random-weight twins of every advertised family, built offline from config and saved with
`save_pretrained`, so tests (and a first run without downloaded weights) load them through the same
`from_pretrained` path production uses. Their output is noise.

Each module here declares `TWINS: dict[str, TwinSpec]` for its family; this package finds them, so adding a
family's twin is one module. `build_twin(root, name)` builds one under `root/name` (idempotent, versioned).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MARKER = "reelsmith-twin.json"

# Builds the pipeline and saves it with `save_pretrained` into the (empty) folder it is given.
Builder = Callable[[Path], None]


@dataclass(frozen=True)
class TwinSpec:
    """A tiny twin: the family and checkpoint kind it stands for (`core.models`), and how to build it."""

    family: str
    kind: str
    build: Builder
    version: int = 1


@cache
def twins() -> dict[str, TwinSpec]:
    """Every twin by name, from the modules of this package."""
    found: dict[str, TwinSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, spec in getattr(module, "TWINS", {}).items():
            if name in found:
                raise ValueError(f"twin {name!r} is declared twice")
            found[name] = spec
    return found


def twin_ready(path: Path, spec: TwinSpec) -> bool:
    marker = path / MARKER
    try:
        return bool(json.loads(marker.read_text()) == {"family": spec.family, "kind": spec.kind,
                                                        "version": spec.version})
    except (OSError, ValueError):
        return False


def build_twin(root: Path, name: str, seed: int = 0) -> Path:
    """The twin `name` under `root/name`, built (with a fixed seed) unless a current one is there."""
    spec = twins()[name]
    path = Path(root) / name
    if twin_ready(path, spec):
        return path
    import torch

    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    spec.build(path)
    (path / MARKER).write_text(json.dumps({"family": spec.family, "kind": spec.kind, "version": spec.version}))
    return path
