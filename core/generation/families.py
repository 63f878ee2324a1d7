"""How a worker's model slots load and derive pipelines, by the family declarations in `core.models`.

A worker loads one base pipeline per model slot (`image_model`, `video_model`; `JobKind.family` names the
slot) and derives the other tasks' pipelines from it with `from_pipe`, sharing the weights. A family without
a class for a task cannot do it, and the member is told so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.models import Task, family_for_class
from core.models.family import Checkpoint, Family
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


# The image slot loads through AutoPipeline; the video slot as whatever class the checkpoint's model_index.json
# names, which then finds its family among the declarations.
SLOTS: dict[str, Slot] = {
    "image": Slot("AutoPipelineForText2Image", Task.TEXT_TO_IMAGE,
                  {JobKind.IMAGE: Task.TEXT_TO_IMAGE, JobKind.EDIT: Task.IMAGE_TO_IMAGE}),
    "video": Slot("DiffusionPipeline", Task.TEXT_TO_VIDEO,
                  {JobKind.VIDEO: Task.TEXT_TO_VIDEO, JobKind.ANIMATE: Task.IMAGE_TO_VIDEO}),
}


def loaded_config(pipe: Any) -> Callable[[str], object]:
    """`Checkpoint.match` values of a loaded pipeline: "component/key" from that component's config, a bare
    "key" from the pipeline's own (what model_index.json held)."""

    def value(key: str) -> object:
        component, _, name = key.rpartition("/")
        owner = getattr(pipe, component, None) if component else pipe
        config = getattr(owner, "config", None)
        return config.get(name) if isinstance(config, Mapping) else None

    return value


def family_of(slot: str, pipeline_class: str, pipe: Any = None) -> tuple[Family, Checkpoint] | None:
    """The family and checkpoint of a base loaded into `slot` as `pipeline_class` (`pipe`, when given, tells
    kinds that load as one class apart); None when none declares it."""
    if slot == "image":
        return AUTO_IMAGE, AUTO_IMAGE.checkpoints[0]
    return family_for_class(pipeline_class, video=True, value=None if pipe is None else loaded_config(pipe))


def pipeline_for(slot: str, pipeline_class: str, task: Task, pipe: Any = None) -> str | None:
    """The diffusers class that does `task` for a base loaded into `slot` as `pipeline_class`, or None."""
    found = family_of(slot, pipeline_class, pipe)
    return found[1].pipelines.get(task) if found is not None else None
