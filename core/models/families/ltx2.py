"""LTX-2: audio and video together from one checkpoint (text or image to a clip with its soundtrack)."""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

LTX_2 = Family(
    name="ltx-2", title="LTX-2 (audio + video)", is_video=True, multiple=32, frames=FrameRule(8), steps=40,
    soundtrack=True, vram="32-48 GB (19B, bf16); ~24 GB with fp8 or CPU offload",
    checkpoints=(Checkpoint("t2v", "LTX2Pipeline", {
        Task.TEXT_TO_VIDEO: "LTX2Pipeline",
        Task.IMAGE_TO_VIDEO: "LTX2ImageToVideoPipeline",
        Task.AUDIO_VIDEO: "LTX2Pipeline",
    }),),
)
