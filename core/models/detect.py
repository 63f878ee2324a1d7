"""Tell a checkpoint folder's family and kind from its JSON files alone (no torch: the catalog calls it).

`model_index.json` names the class the folder loads as; kinds that load as one class are told apart by their
`Checkpoint.match` values, read from the components' `config.json` (a bare key reads `model_index.json`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from core.models.families import family_for_class
from core.models.family import Checkpoint, Family

MODEL_INDEX = "model_index.json"


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class ConfigReader:
    """Config values of a checkpoint folder by `match` key, each file read once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files = cache(_read)

    def __call__(self, key: str) -> object:
        component, _, name = key.rpartition("/")
        path = self.folder / component / "config.json" if component else self.folder / MODEL_INDEX
        return self._files(path).get(name)


def detect(folder: Path) -> tuple[Family, Checkpoint] | None:
    """The family and checkpoint kind of the diffusers folder `folder`; None when none declares it."""
    folder = Path(folder)
    pipeline_class = _read(folder / MODEL_INDEX).get("_class_name")
    if not isinstance(pipeline_class, str):
        return None
    return family_for_class(pipeline_class, value=ConfigReader(folder))
