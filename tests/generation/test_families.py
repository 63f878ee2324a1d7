"""The family table decides loading and `from_pipe` derivation; every class it names exists in diffusers."""

from __future__ import annotations

from pathlib import Path

import diffusers
import pytest

from core.errors import GenerationError
from core.generation.families import AUTO_IMAGE, SLOTS, family_of, pipeline_for
from core.generation.pipeline import PipelineSet
from core.models import FAMILIES, Task, task_of
from core.settings import Settings
from core.types import JobKind


def test_every_class_the_table_names_is_in_diffusers() -> None:
    names = {slot.loader for slot in SLOTS.values()}
    names |= {name for family in (*FAMILIES.values(), AUTO_IMAGE) for c in family.checkpoints
              for name in (c.loader, *c.pipelines.values(), *c.loads_as)}
    missing = sorted(n for n in names if not hasattr(diffusers, n))
    assert missing == []  # a diffusers upgrade renamed or dropped one


def test_every_model_kind_has_a_task_its_slot_can_load() -> None:
    assert {kind: task_of(kind) for kind in JobKind if kind.uses_model} == {
        JobKind.IMAGE: Task.TEXT_TO_IMAGE, JobKind.EDIT: Task.IMAGE_TO_IMAGE,
        JobKind.VIDEO: Task.TEXT_TO_VIDEO, JobKind.ANIMATE: Task.IMAGE_TO_VIDEO, JobKind.UPSCALE: Task.UPSCALE,
    }
    assert pipeline_for("upscale", "StableDiffusionUpscalePipeline", Task.UPSCALE) == "StableDiffusionUpscalePipeline"


def test_lookup_by_loaded_class() -> None:
    ltx = family_of("video", "LTXConditionPipeline")
    assert ltx is not None and ltx[0].name == "ltx-video"
    assert family_of("video", "LTXPipeline") == ltx
    ltx2 = family_of("video", "LTX2Pipeline")
    assert ltx2 is not None and ltx2[0].soundtrack and not ltx[0].soundtrack
    assert pipeline_for("video", "WanPipeline", Task.IMAGE_TO_VIDEO) == "WanImageToVideoPipeline"
    assert pipeline_for("video", "WanPipeline", Task.VIDEO_TO_VIDEO) is None
    assert pipeline_for("video", "MochiPipeline", Task.IMAGE_TO_VIDEO) is None
    # Whatever image class AutoPipeline loaded, its image-to-image sibling comes from AutoPipeline too.
    assert pipeline_for("image", "FluxPipeline", Task.IMAGE_TO_IMAGE) == "AutoPipelineForImage2Image"


def test_derived_pipelines_share_the_base_weights(pipelines: PipelineSet) -> None:
    video, animate, condition = pipelines.get(JobKind.VIDEO), pipelines.get(JobKind.ANIMATE), pipelines.condition_pipe()
    assert (type(video).__name__, type(animate).__name__) == ("LTXPipeline", "LTXImageToVideoPipeline")
    assert type(condition).__name__ == "LTXConditionPipeline"
    assert animate.transformer is video.transformer and condition.transformer is video.transformer
    image, edit = pipelines.get(JobKind.IMAGE), pipelines.get(JobKind.EDIT)
    assert type(edit).__name__ == "StableDiffusionImg2ImgPipeline" and edit.unet is image.unet
    assert pipelines.get(JobKind.ANIMATE) is animate  # derived once


class MochiPipeline:
    """A loaded video model of a family the table does not know."""

    def set_progress_bar_config(self, **_: object) -> None:
        pass


def test_a_family_without_a_task_says_so(tiny_dir: Path) -> None:
    ps = PipelineSet(Settings(_env_file=None, tiny_models_dir=tiny_dir))
    ps._pipes["video"] = MochiPipeline()  # as if `from_pretrained` had loaded it into the video slot
    with pytest.raises(GenerationError, match=r"^The configured video model \(MochiPipeline\) cannot animate images"):
        ps.get(JobKind.ANIMATE)
    assert ps.condition_pipe() is None
    assert ps.get(JobKind.VIDEO) is ps._pipes["video"]


def test_frame_rules_round_to_a_valid_length() -> None:
    ltx, wan = FAMILIES["ltx-video"].frames, FAMILIES["wan"].frames
    assert ltx is not None and wan is not None
    assert [ltx.nearest(n) for n in (1, 9, 12, 13, 97, 100)] == [1, 9, 9, 17, 97, 97]
    assert [wan.nearest(n) for n in (1, 6, 7, 81)] == [1, 5, 9, 81]
