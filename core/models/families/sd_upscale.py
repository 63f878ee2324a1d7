"""Stable Diffusion x4 upscaler (stabilityai/stable-diffusion-x4-upscaler): a text-guided 4x super-resolution
model. Its UNet takes the noisy latents and the noised low-resolution image together (7 input channels)."""

from core.models.family import Checkpoint, Family
from core.models.tasks import Task

SD_UPSCALE = Family(
    name="sd-upscale", title="Stable Diffusion x4 upscaler", is_video=False, steps=20,
    guidance_default=7.5, negative_prompt=True, dtype="float16", vram="6-8 GB (fp16) for a 512 px input",
    checkpoints=(Checkpoint("upscale", "StableDiffusionUpscalePipeline", {
        Task.UPSCALE: "StableDiffusionUpscalePipeline",
    }),),
    notes=(
        "x4 only: other scales are the 4x result resized (Lanczos); the input is fitted so the output stays "
        "within REELSMITH_UPSCALE_MAX_SIDE.",
        "noise_level (0-350, default 20) adds noise to the input first: higher invents more detail.",
        "Memory grows with the output's pixels: an attention-sliced or tiled VAE keeps 2048 px within 8 GB.",
    ),
)

# The upscaler's scale and its default input noise: properties of the checkpoint, not of a request.
SD_UPSCALE_FACTOR = 4
SD_UPSCALE_NOISE_LEVEL = 20
