"""Wan 2.1 / 2.2: one family, three checkpoint kinds that really differ in what they can do.

Wan 2.1 T2V (and Wan 2.2 T2V-A14B) make video from text only: their transformer takes 16 latent channels, so
`from_pipe` into the image-to-video class fails ("expected 36 channels"). Wan 2.1/2.2 I2V are separate
checkpoints that load as `WanImageToVideoPipeline` (2.1 with a CLIP image encoder). Wan 2.2 TI2V-5B does both
from one checkpoint: it loads as `WanPipeline` and animates through `WanImageToVideoPipeline` with
`expand_timesteps` (no image encoder); its 48-channel VAE tells it from a T2V checkpoint.
"""

from core.models.family import Checkpoint, Family, FrameRule
from core.models.tasks import Task

WAN = Family(
    name="wan", title="Wan 2.1 / 2.2", is_video=True, multiple=16, frames=FrameRule(4), steps=50,
    guidance_default=5.0, max_sequence_length=512, dtype="bfloat16", packages=("ftfy",),
    vram="8-10 GB (2.1 T2V-1.3B, bf16, 480p); 24 GB (2.2 TI2V-5B, 720p, with offload); 40+ GB (14B)",
    notes=(
        "Wan 2.1 T2V cannot animate images: add the separate Wan 2.1 I2V checkpoint, or use Wan 2.2 TI2V-5B.",
        "Clips are 4k+1 frames at 16 fps (2.1) or 24 fps (2.2 TI2V); 81 frames is the trained length.",
    ),
    checkpoints=(
        Checkpoint("t2v", "WanPipeline", {Task.TEXT_TO_VIDEO: "WanPipeline"}),
        Checkpoint("i2v", "WanImageToVideoPipeline", {Task.IMAGE_TO_VIDEO: "WanImageToVideoPipeline"}),
        # The 2.2 VAE compresses 16x spatially with transformer patches of 2: sizes are multiples of 32.
        Checkpoint("ti2v", "WanPipeline", {
            Task.TEXT_TO_VIDEO: "WanPipeline",
            Task.IMAGE_TO_VIDEO: "WanImageToVideoPipeline",
        }, match={"vae/z_dim": 48}, multiple=32),
    ),
)
