"""HunyuanVideo: text-to-video and image-to-video are separate checkpoints.

The T2V transformer is guidance-distilled (`guidance_scale` is embedded, default 6); negative prompts need
true classifier-free guidance (`true_cfg_scale` > 1, twice the compute). Both take 4k+1 frames.
"""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

HUNYUANVIDEO = Family(
    name="hunyuanvideo", title="HunyuanVideo", is_video=True, multiple=16, frames=FrameRule(4), steps=50,
    true_cfg=True, max_sequence_length=256, dtype="bfloat16",
    vram="60-80 GB (720p x 129 frames, bf16); about 24 GB with CPU offload and VAE tiling",
    notes=(
        "Image-to-video needs the separate HunyuanVideo-I2V checkpoint.",
        "Negative prompts run true classifier-free guidance: each step costs twice as much.",
    ),
    checkpoints=(
        Checkpoint("t2v", "HunyuanVideoPipeline", {Task.TEXT_TO_VIDEO: "HunyuanVideoPipeline"}),
        Checkpoint("i2v", "HunyuanVideoImageToVideoPipeline",
                   {Task.IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline"}),
    ),
)
