"""LoRAs per job on warm pipelines: each loaded once as a named adapter, switched on for its job, off after.

Pipelines derived with `from_pipe` share their base's denoiser and text encoders, so adapters live on those
modules, not on a pipeline: what is loaded is remembered per denoiser module, and `set_adapters` /
`disable_lora` on any pipeline sharing it act on the same layers. Files are found by name only, under
REELSMITH_LORAS_DIR (`core.styles.catalog.lora_file`): a request never carries a path.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.errors import GenerationError
from core.i18n import _
from core.styles.catalog import StyleError, lora_file
from core.types import LoraUse

log = logging.getLogger(__name__)


def _denoiser(pipe: Any) -> Any:
    return getattr(pipe, "unet", None) or getattr(pipe, "transformer", None) or pipe


class LoraSwitch:
    """Which adapters each denoiser holds, and the per-job switch (`use`) around a pipeline call."""

    def __init__(self, loras_dir: Path) -> None:
        self.loras_dir = loras_dir
        self._loaded: dict[int, set[str]] = {}  # id(denoiser module) -> adapter names loaded into it
        self.loads = 0

    def loaded(self, pipe: Any) -> set[str]:
        return set(self._loaded.get(id(_denoiser(pipe)), set()))

    def _load(self, pipe: Any, name: str) -> None:
        held = self._loaded.setdefault(id(_denoiser(pipe)), set())
        if name in held:
            return
        if not hasattr(pipe, "load_lora_weights"):
            raise GenerationError(_("The model ({pipeline}) cannot use LoRAs, so style LoRA {name} cannot apply. Use "
                                    "the style with another model or ask the owner.", pipeline=type(pipe).__name__,
                                    name=name))
        try:
            path = lora_file(self.loras_dir, name)
            pipe.load_lora_weights(str(path), adapter_name=name)
        except StyleError as exc:
            raise GenerationError(_("LoRA {name} could not be loaded: {error}", name=name, error=exc)) from exc
        except Exception as exc:  # a broken or mismatched file: the job fails, naming it; no retry helps
            log.exception("loading LoRA %s failed", name)
            with contextlib.suppress(Exception):
                pipe.delete_adapters([name])  # drop whatever a half-finished load left behind
            raise GenerationError(_("LoRA {name} could not be loaded into {pipeline}: it does not fit this model or "
                                    "the file is damaged. Tell the service owner.", name=name,
                                    pipeline=type(pipe).__name__)) from exc
        held.add(name)
        self.loads += 1

    @contextlib.contextmanager
    def use(self, pipe: Any, loras: Sequence[LoraUse]) -> Iterator[None]:
        """The job's LoRAs switched on at their weights during the block; every adapter off after it."""
        if not loras:
            yield
            return
        for lora in loras:
            self._load(pipe, lora.name)
        pipe.enable_lora()
        pipe.set_adapters([lora.name for lora in loras], adapter_weights=[lora.weight for lora in loras])
        try:
            yield
        finally:
            pipe.disable_lora()  # the next job (perhaps with none) must not draw with this one's LoRAs
