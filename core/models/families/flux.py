"""FLUX.1 (a rectified-flow transformer; CLIP-L and T5-XXL text encoders) and FLUX.1 Kontext (instruction edits)."""

from core.models.family import Checkpoint, Family
from core.models.tasks import Task

FLUX = Family(
    name="flux", title="FLUX.1 / FLUX.1 Kontext", is_video=False, multiple=16, steps=28,
    # Guidance is distilled into the model (an embedding, not classifier-free guidance): dev 3.5; schnell
    # ignores it (its catalog entry: guidance 0, steps 4). Negative prompts need true CFG (twice the compute).
    negative_prompt=False, true_cfg=True, guidance="guidance_scale", guidance_default=3.5,
    max_sequence_length=512, dtype="bfloat16",
    vram="24 GB+ bf16; ~16 GB with fp8 / CPU offload",
    checkpoints=(
        Checkpoint("t2i", "FluxPipeline", {
            Task.TEXT_TO_IMAGE: "FluxPipeline",
            Task.IMAGE_TO_IMAGE: "FluxImg2ImgPipeline",
            Task.INPAINT: "FluxInpaintPipeline",
        }),
        # Kontext edits the image it is given by an instruction ("make it night"); without one it draws.
        Checkpoint("kontext", "FluxKontextPipeline", {
            Task.IMAGE_TO_IMAGE: "FluxKontextPipeline",
            Task.TEXT_TO_IMAGE: "FluxKontextPipeline",
        }),
    ),
    notes=(
        "schnell (Apache-2.0): 1-4 steps, guidance 0, max_sequence_length 256; dev and Kontext dev "
        "(non-commercial licence): ~28 steps, guidance 3.5 (Kontext 2.5).",
        "A negative prompt runs true classifier-free guidance (true_cfg_scale), doubling the work per step.",
        "Kontext keeps the edited image's size; its prompt is an instruction, not a description.",
    ),
)
