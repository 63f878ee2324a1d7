"""CogVideoX 1.0 / 1.5: text-to-video and image-to-video are separate checkpoints.

Clip lengths: 1.0 takes 4k+1 frames; 1.5 pads its latent frames to pairs, so 8k+1 (49, 81) suits both. The
1.0 5B I2V transformer has learned positional embeddings: it runs only at its trained size (720x480).
"""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

COGVIDEOX = Family(
    name="cogvideox", title="CogVideoX", is_video=True, multiple=16, frames=FrameRule(8), steps=50,
    guidance_default=6.0, max_sequence_length=226, dtype="bfloat16",
    vram="18 GB (5B, bf16); 5-10 GB with CPU offload and VAE tiling",
    notes=(
        "Image-to-video needs the separate CogVideoX I2V checkpoint.",
        "CogVideoX 1.0 I2V runs only at 720x480 (learned positional embeddings): other sizes are replaced.",
    ),
    checkpoints=(
        Checkpoint("t2v", "CogVideoXPipeline", {Task.TEXT_TO_VIDEO: "CogVideoXPipeline"}),
        Checkpoint("i2v", "CogVideoXImageToVideoPipeline",
                   {Task.IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline"}),
    ),
)
