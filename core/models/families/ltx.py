"""LTX-Video 0.9.x: text, image and multi-condition video from one checkpoint."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

LTX_VIDEO = Family(
    name="ltx-video", title="LTX-Video", is_video=True, multiple=32, frames=FrameRule(8), steps=40,
    vram="16-20 GB (bf16, 768x512x121)",
    checkpoints=(Checkpoint("t2v", "LTXPipeline", {
        Task.TEXT_TO_VIDEO: "LTXPipeline",
        Task.IMAGE_TO_VIDEO: "LTXImageToVideoPipeline",
        Task.VIDEO_TO_VIDEO: "LTXConditionPipeline",
    }, loads_as=("LTXConditionPipeline",)),),
)
