"""How models load (issue 18, start-up): from safetensors only (mapped, never unpickled), with low_cpu_mem_usage."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from core.errors import GenerationError
from core.generation.pipeline import PipelineSet
from core.generation.tiny_models import IMAGE_SUBDIR, build_tiny_models
from core.settings import Settings
from core.types import JobKind


def test_loading_asks_for_safetensors_and_low_cpu_mem_usage(tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import diffusers

    pipes = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir))
    entry = pipes.entry_for(JobKind.IMAGE, "")
    from core.generation.families import loader_for

    cls = getattr(diffusers, loader_for(entry))
    real = cls.from_pretrained.__func__
    seen: list[dict[str, Any]] = []

    def spy(klass: Any, *args: Any, **kwargs: Any) -> Any:  # records, then loads for real
        seen.append(kwargs)
        return real(klass, *args, **kwargs)

    monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    assert pipes.get(JobKind.IMAGE) is not None
    assert len(seen) == 1
    assert seen[0]["use_safetensors"] is True and seen[0]["low_cpu_mem_usage"] is True


def test_a_pickled_checkpoint_is_refused_with_what_to_do(tiny_dir: Path, tmp_path: Path) -> None:
    pickled = tmp_path / "pickled"
    shutil.copytree(build_tiny_models(tiny_dir) / IMAGE_SUBDIR, pickled)
    for weights in (pickled / "unet").glob("*.safetensors"):
        torch.save(load_file(weights), weights.with_name("diffusion_pytorch_model.bin"))
        weights.unlink()
    pipes = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, image_model=str(pickled)))
    with pytest.raises(GenerationError, match="no safetensors weights .* convert it to safetensors"):
        pipes.get(JobKind.IMAGE)
    assert pipes.loads == 0
