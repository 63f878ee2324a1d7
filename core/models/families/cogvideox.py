"""CogVideoX text-to-video (image-to-video is a separate checkpoint)."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

COGVIDEOX = Family(
    name="cogvideox", title="CogVideoX", is_video=True, multiple=16, frames=FrameRule(8), steps=50,
    checkpoints=(Checkpoint("t2v", "CogVideoXPipeline", {
        Task.TEXT_TO_VIDEO: "CogVideoXPipeline",
        Task.IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline",
    }),),
)
