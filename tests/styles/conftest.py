"""Fixtures: a folder with two tiny LoRAs for the tiny SD UNet, and warm pipelines that read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.generation.pipeline import PipelineSet
from core.settings import Settings
from core.types import JobKind
from tests.styles.tiny_lora import build_tiny_lora


@pytest.fixture(scope="session")
def loras_dir(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("loras")
    build_tiny_lora(tiny_dir, out, "watercolor", seed=1)
    build_tiny_lora(tiny_dir, out, "ink", seed=2)
    (out / "broken.safetensors").write_bytes(b"not a safetensors file")
    return out


@pytest.fixture(scope="session")
def lora_pipelines(tiny_dir: Path, loras_dir: Path) -> PipelineSet:
    """Tiny pipelines whose LoRA folder holds the test LoRAs (their own, so adapters never reach other tests)."""
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, loras_dir=loras_dir))
    ps.warm_up((JobKind.IMAGE, JobKind.EDIT))
    return ps


@pytest.fixture
def settings(settings: Settings, loras_dir: Path) -> Settings:
    return settings.model_copy(update={"loras_dir": loras_dir})
