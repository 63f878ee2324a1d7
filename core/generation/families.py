"""Model families: which diffusers pipeline class does which task, in one table (diffusers' AUTO_*_MAPPING style).

A worker loads one base pipeline per model slot (`image_model`, `video_model`; `JobKind.family` names the
slot) and derives the other tasks' pipelines from it with `from_pipe`, sharing the weights. A family without
a class for a task cannot do it, and the member is told so. Loading and derivation both read this table;
the model catalog builds on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.types import JobKind


class Task(StrEnum):
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    # LTX-style `conditions`: a reference clip from frame 0 (restyling), or several images at chosen frames.
    VIDEO_TO_VIDEO = "video-to-video"


@dataclass(frozen=True)
class ModelFamily:
    """One family: the diffusers class for each task it can do."""

    name: str
    pipelines: Mapping[Task, str]
    # Further classes a checkpoint of this family may name in its model_index.json (and so load as).
    loads_as: tuple[str, ...] = ()
    # An audio-video model: one soundtrack per pipeline call, so its jobs run one by one, never batched.
    soundtrack: bool = False

    def matches(self, pipeline_class: str) -> bool:
        """Whether a base pipeline loaded as `pipeline_class` belongs to this family."""
        return pipeline_class in (self.pipelines.get(Task.TEXT_TO_VIDEO), *self.loads_as)


# Every text-to-image family diffusers' AutoPipeline maps (Stable Diffusion, SDXL, FLUX ...): it picks the class.
AUTO_IMAGE = ModelFamily("sd-sdxl-flux (AutoPipeline)", {
    Task.TEXT_TO_IMAGE: "AutoPipelineForText2Image",
    Task.IMAGE_TO_IMAGE: "AutoPipelineForImage2Image",
})
VIDEO_FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily("ltx-video", {
        Task.TEXT_TO_VIDEO: "LTXPipeline",
        Task.IMAGE_TO_VIDEO: "LTXImageToVideoPipeline",
        Task.VIDEO_TO_VIDEO: "LTXConditionPipeline",
    }, loads_as=("LTXConditionPipeline",)),
    ModelFamily("ltx-2", {
        Task.TEXT_TO_VIDEO: "LTX2Pipeline",
        Task.IMAGE_TO_VIDEO: "LTX2ImageToVideoPipeline",
    }, soundtrack=True),
    ModelFamily("wan", {Task.TEXT_TO_VIDEO: "WanPipeline", Task.IMAGE_TO_VIDEO: "WanImageToVideoPipeline"}),
    ModelFamily("cogvideox", {
        Task.TEXT_TO_VIDEO: "CogVideoXPipeline",
        Task.IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline",
    }),
    ModelFamily("hunyuanvideo", {
        Task.TEXT_TO_VIDEO: "HunyuanVideoPipeline",
        Task.IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline",
    }),
)
MODEL_FAMILIES: tuple[ModelFamily, ...] = (AUTO_IMAGE, *VIDEO_FAMILIES)


@dataclass(frozen=True)
class Slot:
    """A model slot: the class that loads its base pipeline with `from_pretrained`, and the task that base does."""

    loader: str
    base_task: Task
    tasks: Mapping[JobKind, Task]


# The image slot loads through AutoPipeline; the video slot as whatever class the checkpoint's model_index.json
# names, which then finds its family in the table.
SLOTS: dict[str, Slot] = {
    "image": Slot("AutoPipelineForText2Image", Task.TEXT_TO_IMAGE,
                  {JobKind.IMAGE: Task.TEXT_TO_IMAGE, JobKind.EDIT: Task.IMAGE_TO_IMAGE}),
    "video": Slot("DiffusionPipeline", Task.TEXT_TO_VIDEO,
                  {JobKind.VIDEO: Task.TEXT_TO_VIDEO, JobKind.ANIMATE: Task.IMAGE_TO_VIDEO}),
}


def task_of(kind: JobKind) -> Task:
    """The task a job kind asks of its slot's model (memes use no model: KeyError)."""
    return SLOTS[kind.family].tasks[kind]


def family_of(slot: str, pipeline_class: str) -> ModelFamily | None:
    """The family of a base pipeline loaded into `slot` as `pipeline_class`; None when the table does not know it."""
    if slot == "image":
        return AUTO_IMAGE
    return next((f for f in VIDEO_FAMILIES if f.matches(pipeline_class)), None)


def pipeline_for(slot: str, pipeline_class: str, task: Task) -> str | None:
    """The diffusers class that does `task` for a base loaded into `slot` as `pipeline_class`, or None."""
    family = family_of(slot, pipeline_class)
    return family.pipelines.get(task) if family is not None else None
