"""How a worker's model slots load and derive pipelines, by the family declarations in `core.models`.

A worker loads one base pipeline per model slot (`image_model`, `video_model`; `JobKind.family` names the
slot) and derives the other tasks' pipelines from it with `from_pipe`, sharing the weights. A family without
a class for a task cannot do it, and the member is told so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.models import Task, family_for_class
from core.models.catalog import ModelEntry, catalog_for
from core.models.family import Checkpoint, Family
from core.settings import Settings
from core.types import JobKind

# An image model of a family `core.models` does not declare still loads through diffusers' AutoPipeline,
# which also picks its image-to-image sibling.
AUTO_IMAGE = Family(name="auto-image", title="any AutoPipeline text-to-image model", is_video=False, checkpoints=(
    Checkpoint("t2i", "AutoPipelineForText2Image", {
        Task.TEXT_TO_IMAGE: "AutoPipelineForText2Image",
        Task.IMAGE_TO_IMAGE: "AutoPipelineForImage2Image",
    }),
))


@dataclass(frozen=True)
class Slot:
    """A model slot: the class that loads its base pipeline with `from_pretrained`, and the task that base does."""

    loader: str
    base_task: Task
    tasks: Mapping[JobKind, Task]


# The image slot loads through AutoPipeline; the video and upscale slots as whatever class the checkpoint's
# model_index.json names, which then finds its family among the declarations. An image worker serves
# /upscale: from the upscale slot where `upscale_model` is set, else with the image slot's image-to-image.
SLOTS: dict[str, Slot] = {
    "image": Slot("AutoPipelineForText2Image", Task.TEXT_TO_IMAGE,
                  {JobKind.IMAGE: Task.TEXT_TO_IMAGE, JobKind.EDIT: Task.IMAGE_TO_IMAGE}),
    "video": Slot("DiffusionPipeline", Task.TEXT_TO_VIDEO,
                  {JobKind.VIDEO: Task.TEXT_TO_VIDEO, JobKind.ANIMATE: Task.IMAGE_TO_VIDEO}),
    "upscale": Slot("DiffusionPipeline", Task.UPSCALE, {JobKind.UPSCALE: Task.UPSCALE}),
}


def family_of(slot: str, pipeline_class: str) -> tuple[Family, Checkpoint] | None:
    """The family and checkpoint of a base loaded into `slot` as `pipeline_class`; None when none declares it."""
    if slot == "image":
        return AUTO_IMAGE, AUTO_IMAGE.checkpoints[0]
    return family_for_class(pipeline_class, video=slot == "video")


def pipeline_for(slot: str, pipeline_class: str, task: Task) -> str | None:
    """The diffusers class that does `task` for a base loaded into `slot` as `pipeline_class`, or None."""
    found = family_of(slot, pipeline_class)
    return found[1].pipelines.get(task) if found is not None else None


def upscale_entry(settings: Settings) -> ModelEntry | None:
    """The catalog's upscale model (`REELSMITH_UPSCALE_MODEL` is shorthand for one); None: /upscale refines
    with the image model."""
    return catalog_for(settings).default_for(Task.UPSCALE)


def upscale_slot(has_upscale_model: bool) -> tuple[str, Task]:
    """Where /upscale runs: the upscale model where one is configured, else the image model's image-to-image
    (resized first, then refined: `core.generation.upscale`)."""
    return ("upscale", Task.UPSCALE) if has_upscale_model else ("image", Task.IMAGE_TO_IMAGE)
