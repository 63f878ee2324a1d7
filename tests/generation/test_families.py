"""The family table decides loading and `from_pipe` derivation; every class it names exists in diffusers."""

from __future__ import annotations

from pathlib import Path

import diffusers
import pytest

from core.errors import GenerationError
from core.generation.families import loader_for, pipeline_for
from core.generation.pipeline import PipelineSet
from core.models import FAMILIES, Task, task_of
from core.models.catalog import AUTO_IMAGE, AUTO_VIDEO, TINY_IMAGE, TINY_VIDEO, catalog_for, settle
from core.settings import Settings
from core.types import JobKind


def test_every_class_the_table_names_is_in_diffusers() -> None:
    names = {"DiffusionPipeline"}
    names |= {name for family in (*FAMILIES.values(), AUTO_IMAGE) for c in family.checkpoints
              for name in (c.loader, *c.pipelines.values(), *c.loads_as)}
    missing = sorted(n for n in names if not hasattr(diffusers, n))
    assert missing == []  # a diffusers upgrade renamed or dropped one


def test_every_model_kind_has_a_task_its_slot_can_load() -> None:
    assert {kind: task_of(kind) for kind in JobKind if kind.uses_model} == {
        JobKind.IMAGE: Task.TEXT_TO_IMAGE, JobKind.EDIT: Task.IMAGE_TO_IMAGE,
        JobKind.VIDEO: Task.TEXT_TO_VIDEO, JobKind.ANIMATE: Task.IMAGE_TO_VIDEO, JobKind.UPSCALE: Task.UPSCALE,
        JobKind.EXTEND: Task.IMAGE_TO_VIDEO,  # from the last frame (or the last frames, where a model conditions)
        JobKind.INPAINT: Task.INPAINT,
    }
    upscaler = settle({"name": "x4", "source": "x", "family": "sd-upscale"})
    assert upscaler.tasks == (Task.UPSCALE,)
    assert pipeline_for(upscaler, "StableDiffusionUpscalePipeline", Task.UPSCALE) == "StableDiffusionUpscalePipeline"


def test_lookup_by_loaded_class() -> None:
    ltx = settle({"name": "ltx", "source": "x", "family": "ltx-video"})
    assert pipeline_for(ltx, "LTXConditionPipeline", Task.VIDEO_TO_VIDEO) == "LTXConditionPipeline"
    assert pipeline_for(ltx, "LTXConditionPipeline", Task.TEXT_TO_VIDEO) == "LTXConditionPipeline"  # the base
    assert pipeline_for(ltx, "LTXPipeline", Task.IMAGE_TO_VIDEO) == "LTXImageToVideoPipeline"
    assert pipeline_for(ltx, "LTXPipeline", Task.TEXT_TO_IMAGE) is None
    assert loader_for(ltx) == "DiffusionPipeline"  # as its model_index.json names it
    # An image model of an undeclared family loads through AutoPipeline, which also finds its image-to-image sibling.
    other = settle({"name": "other", "source": "x"}, video=False)
    assert other.family == AUTO_IMAGE.name and loader_for(other) == "AutoPipelineForText2Image"
    assert pipeline_for(other, "FluxPipeline", Task.TEXT_TO_IMAGE) == "FluxPipeline"
    assert pipeline_for(other, "FluxPipeline", Task.IMAGE_TO_IMAGE) == "AutoPipelineForImage2Image"
    video = settle({"name": "mochi", "source": "x"}, video=True)
    assert video.family == AUTO_VIDEO.name and video.tasks == (Task.TEXT_TO_VIDEO,)
    # A Wan 2.1 T2V checkpoint cannot animate (16-channel transformer); its I2V checkpoint is a separate one.
    wan = settle({"name": "wan", "source": "x", "family": "wan", "kind": "t2v"})
    wan_i2v = settle({"name": "wan-i2v", "source": "x", "family": "wan", "kind": "i2v"})
    assert pipeline_for(wan, "WanPipeline", Task.IMAGE_TO_VIDEO) is None
    assert pipeline_for(wan_i2v, "WanImageToVideoPipeline", Task.IMAGE_TO_VIDEO) == "WanImageToVideoPipeline"
    assert pipeline_for(wan_i2v, "WanImageToVideoPipeline", Task.TEXT_TO_VIDEO) is None
    assert pipeline_for(wan, "WanPipeline", Task.VIDEO_TO_VIDEO) is None


def test_derived_pipelines_share_the_base_weights(pipelines: PipelineSet) -> None:
    video, animate, condition = pipelines.get(JobKind.VIDEO), pipelines.get(JobKind.ANIMATE), pipelines.condition_pipe()
    assert set(pipelines.warm_models) == {TINY_IMAGE, TINY_VIDEO}
    assert (type(video).__name__, type(animate).__name__) == ("LTXPipeline", "LTXImageToVideoPipeline")
    assert type(condition).__name__ == "LTXConditionPipeline"
    assert animate.transformer is video.transformer and condition.transformer is video.transformer
    image, edit = pipelines.get(JobKind.IMAGE), pipelines.get(JobKind.EDIT)
    assert type(edit).__name__ == "StableDiffusionImg2ImgPipeline" and edit.unet is image.unet
    assert pipelines.get(JobKind.ANIMATE) is animate  # derived once


def test_a_model_without_a_task_says_so(tiny_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "stills"\nsource = "tiny:image"\nfamily = "sd"\ntasks = ["text-to-image"]\n'
                      '[[model]]\nname = "clips"\nsource = "tiny:video"\nfamily = "ltx-video"\n'
                      'tasks = ["text-to-video"]\n')
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir, models_file=models))
    with pytest.raises(GenerationError, match=r"^The model stills cannot change a picture"):
        ps.get(JobKind.EDIT, "stills")
    assert ps.condition_pipe("clips") is None
    assert type(ps.get(JobKind.VIDEO, "clips")).__name__ == "LTXPipeline"
    with pytest.raises(GenerationError, match="has no model that can animate a picture"):
        ps.get(JobKind.ANIMATE)


def test_least_recently_used_model_is_evicted(tiny_dir: Path) -> None:
    settings = Settings(_env_file=None, tiny_models_dir=tiny_dir, worker_max_models=1)
    ps = PipelineSet(settings)
    ps.get(JobKind.IMAGE)
    assert ps.warm_models == [TINY_IMAGE]
    ps.get(JobKind.VIDEO)
    assert ps.warm_models == [TINY_VIDEO] and (ps.loads, ps.evictions) == (2, 1)
    assert ps.sources.keys() == {TINY_VIDEO}
    catalog = catalog_for(settings)
    assert catalog.entry(TINY_IMAGE) is not None  # evicted from memory, still in the catalog
    unlimited = PipelineSet(settings.model_copy(update={"worker_max_models": 0, "worker_memory_gb": 1.0}))
    unlimited.warm_up()
    assert set(unlimited.warm_models) == {TINY_IMAGE, TINY_VIDEO} and unlimited.evictions == 0
    tight = PipelineSet(settings.model_copy(update={"worker_max_models": 0, "worker_memory_gb": 1e-6}))
    tight.get(JobKind.IMAGE)
    tight.get(JobKind.VIDEO)
    assert tight.warm_models == [TINY_VIDEO] and tight.evictions == 1  # over the memory budget: one at a time


def test_frame_rules_round_to_a_valid_length() -> None:
    ltx, wan = FAMILIES["ltx-video"].frames, FAMILIES["wan"].frames
    assert ltx is not None and wan is not None
    assert [ltx.nearest(n) for n in (1, 9, 12, 13, 97, 100)] == [1, 9, 9, 17, 97, 97]
    assert [wan.nearest(n) for n in (1, 6, 7, 81)] == [1, 5, 9, 81]
