"""Wan 2.x: text-to-video checkpoints, and the separate image-to-video checkpoints of Wan 2.1."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

WAN = Family(
    name="wan", title="Wan 2.x", is_video=True, multiple=16, frames=FrameRule(4), steps=40, packages=("ftfy",),
    checkpoints=(
        # A T2V checkpoint has no image encoder: it cannot animate a picture.
        Checkpoint("t2v", "WanPipeline", {Task.TEXT_TO_VIDEO: "WanPipeline"}),
        Checkpoint("i2v", "WanImageToVideoPipeline", {Task.IMAGE_TO_VIDEO: "WanImageToVideoPipeline"}),
    ),
)
