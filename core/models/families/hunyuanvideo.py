"""HunyuanVideo text-to-video (image-to-video is a separate checkpoint)."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

HUNYUANVIDEO = Family(
    name="hunyuanvideo", title="HunyuanVideo", is_video=True, multiple=16, frames=FrameRule(4), steps=50,
    checkpoints=(Checkpoint("t2v", "HunyuanVideoPipeline", {
        Task.TEXT_TO_VIDEO: "HunyuanVideoPipeline",
        Task.IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline",
    }),),
)
