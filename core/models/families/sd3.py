"""Stable Diffusion 3 / 3.5 (an MMDiT transformer; two CLIP text encoders and a T5-XXL)."""

from core.models.family import Checkpoint, Family
from core.models.tasks import Task

SD3 = Family(
    name="sd3", title="Stable Diffusion 3 / 3.5", is_video=False, multiple=16, steps=28, guidance_default=7.0,
    max_sequence_length=256, dtype="bfloat16",
    vram="18-24 GB (3.5 Large, bf16); ~12 GB (3.5 Medium); less with T5 dropped or CPU offload",
    checkpoints=(Checkpoint("t2i", "StableDiffusion3Pipeline", {
        Task.TEXT_TO_IMAGE: "StableDiffusion3Pipeline",
        Task.IMAGE_TO_IMAGE: "StableDiffusion3Img2ImgPipeline",
        Task.INPAINT: "StableDiffusion3InpaintPipeline",
    }),),
    notes=(
        "Three text encoders: CLIP-L, OpenCLIP bigG and T5-XXL (the T5 is most of the memory; prompts longer "
        "than max_sequence_length T5 tokens are cut).",
        "3.5 Large Turbo: steps 4 and guidance 0 in its catalog entry.",
    ),
)
