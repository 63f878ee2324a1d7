"""Wan 2.x text-to-video (image-to-video checkpoints are separate for 2.1)."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

WAN = Family(
    name="wan", title="Wan 2.x", is_video=True, multiple=16, frames=FrameRule(4), steps=40, packages=("ftfy",),
    checkpoints=(Checkpoint("t2v", "WanPipeline", {
        Task.TEXT_TO_VIDEO: "WanPipeline",
        Task.IMAGE_TO_VIDEO: "WanImageToVideoPipeline",
    }),),
)
