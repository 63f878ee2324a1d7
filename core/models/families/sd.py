"""Stable Diffusion 1.x / 2.x (one UNet, one CLIP text encoder)."""

from core.models.family import Checkpoint, Family
from core.models.tasks import Task

STABLE_DIFFUSION = Family(
    name="sd", title="Stable Diffusion 1.5 / 2.x", is_video=False, steps=25, dtype="float16",
    vram="4-6 GB (fp16, 512²)",
    checkpoints=(Checkpoint("t2i", "StableDiffusionPipeline", {
        Task.TEXT_TO_IMAGE: "StableDiffusionPipeline",
        Task.IMAGE_TO_IMAGE: "StableDiffusionImg2ImgPipeline",
        Task.INPAINT: "StableDiffusionInpaintPipeline",
    }),),
    notes=(
        "Native 512x512 (2.x 768x768); one CLIP text encoder, 77 tokens.",
        "Checkpoints may ship a safety checker: flagged images are held back where NSFW is not allowed.",
    ),
)
