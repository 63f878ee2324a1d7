"""Stable Diffusion XL (and SDXL-Turbo: the same architecture, distilled for 1-4 steps without guidance)."""

from core.models.family import Checkpoint, Family
from core.models.tasks import Task

SDXL = Family(
    name="sdxl", title="Stable Diffusion XL / SDXL-Turbo", is_video=False, steps=30, dtype="float16",
    vram="8-12 GB (fp16, 1024²); Turbo ~8 GB (512²)",
    checkpoints=(Checkpoint("t2i", "StableDiffusionXLPipeline", {
        Task.TEXT_TO_IMAGE: "StableDiffusionXLPipeline",
        Task.IMAGE_TO_IMAGE: "StableDiffusionXLImg2ImgPipeline",
        Task.INPAINT: "StableDiffusionXLInpaintPipeline",
    }),),
    notes=(
        "Two CLIP text encoders (ViT-L and OpenCLIP bigG); native 1024x1024.",
        "SDXL-Turbo loads the same way: give its catalog entry steps 1-4 and guidance 0 (it was distilled "
        "without classifier-free guidance, so negative prompts do nothing), at 512x512.",
        "Use the fp16-fix VAE (madebyollin/sdxl-vae-fp16-fix) for float16 without black images.",
    ),
)
