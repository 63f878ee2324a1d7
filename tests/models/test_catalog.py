"""The catalog: entries from the models file and the shorthand, detection from a checkpoint's JSON, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import CatalogError
from core.models import Task
from core.models.catalog import TINY_IMAGE, TINY_VIDEO, build_catalog, catalog_for, detect
from core.settings import Settings


def _checkpoint(root: Path, name: str, cls: str, **configs: dict[str, object]) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": cls}))
    for component, config in configs.items():
        (folder / component).mkdir()
        (folder / component / "config.json").write_text(json.dumps(config))
    return folder


def test_without_configuration_the_tiny_twins_serve_every_task_they_can() -> None:
    catalog = build_catalog(Settings(_env_file=None))
    assert set(catalog.entries) == {TINY_IMAGE, TINY_VIDEO}
    assert catalog.default_for(Task.IMAGE_TO_IMAGE).name == TINY_IMAGE  # type: ignore[union-attr]
    assert catalog.default_for(Task.VIDEO_TO_VIDEO).name == TINY_VIDEO  # type: ignore[union-attr]
    assert catalog.default_for(Task.UPSCALE) is None


def test_shorthand_reads_the_family_from_the_checkpoint(tmp_path: Path) -> None:
    ltx = _checkpoint(tmp_path, "LTX-Video-0.9.7", "LTXConditionPipeline")
    catalog = build_catalog(Settings(_env_file=None, video_model=str(ltx)))
    entry = catalog.entry("ltx-video-0.9.7")
    assert entry is not None and (entry.family, entry.kind, entry.is_video) == ("ltx-video", "t2v", True)
    assert TINY_IMAGE in catalog.entries and TINY_VIDEO not in catalog.entries


def test_models_file_entries_defaults_and_mistakes(tmp_path: Path) -> None:
    ltx = _checkpoint(tmp_path, "ltx", "LTXPipeline")
    models = tmp_path / "models.toml"
    models.write_text(f'''
[defaults]
text-to-video = "clips"

[[model]]
name = "Clips"
source = "{ltx}"
cost = 2.5
tasks = ["text-to-video"]

[[model]]
name = "ltx-any"
source = "{ltx}"
''')
    catalog = catalog_for(Settings(_env_file=None, models_file=models))
    assert set(catalog.entries) == {"clips", "ltx-any"}  # a file lists every model: no tiny stand-ins
    assert catalog.default_for(Task.TEXT_TO_VIDEO).name == "clips"  # type: ignore[union-attr]
    assert catalog.default_for(Task.IMAGE_TO_VIDEO).name == "ltx-any"  # type: ignore[union-attr]
    assert catalog.default_for(Task.TEXT_TO_IMAGE) is None
    assert catalog.entry("CLIPS").cost == 2.5  # type: ignore[union-attr]

    models.write_text(f'[[model]]\nname = "x"\nsource = "{ltx}"\ntasks = ["text-to-image"]\n')
    with pytest.raises(CatalogError, match="cannot do text-to-image"):
        build_catalog(Settings(_env_file=None, models_file=models))
    models.write_text('[[model]]\nname = "x"\nsource = "org/unknown"\n')
    with pytest.raises(CatalogError, match="say its family"):
        build_catalog(Settings(_env_file=None, models_file=models))
    models.write_text(f'[defaults]\nupscale = "x"\n[[model]]\nname = "x"\nsource = "{ltx}"\n')
    with pytest.raises(CatalogError, match="no model of that name serves upscale"):
        build_catalog(Settings(_env_file=None, models_file=models))


def test_detect_unknown_and_missing(tmp_path: Path) -> None:
    assert detect(str(tmp_path / "nothing")) is None
    assert detect(str(_checkpoint(tmp_path, "mochi", "MochiPipeline"))) is None
