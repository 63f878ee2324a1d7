"""A tiny LoRA for the tiny SD UNet: random (non-zero) LoRA weights on its attention projections, saved the way
diffusers' `save_lora_weights` writes them, so `load_lora_weights` reads it like a real one."""

from __future__ import annotations

from pathlib import Path

from core.generation.tiny_models import IMAGE_SUBDIR


def build_tiny_lora(tiny_dir: Path, out_dir: Path, name: str, seed: int = 0) -> Path:
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(tiny_dir / IMAGE_SUBDIR / "unet")
    # init_lora_weights=False: lora_B random, not zero, so the LoRA changes the output from the first step.
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(out_dir, unet_lora_layers=layers, weight_name=f"{name}.safetensors")
    return out_dir / f"{name}.safetensors"
