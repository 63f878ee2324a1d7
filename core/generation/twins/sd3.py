"""Stable Diffusion 3 / 3.5: a tiny MMDiT twin with its three text encoders (two CLIPs and a T5); 16 latent
channels like the real model (its inpaint pipeline takes no other)."""

from __future__ import annotations

from pathlib import Path

from core.generation.twins import TwinSpec
from core.generation.twins.image_parts import TEXT_DIM, clip_config, flat_vae, t5_encoder
from core.generation.twins.parts import clip_tokenizer, t5_tokenizer

# The joint width: the two CLIPs' hidden states side by side are padded to the T5's width.
_JOINT = 2 * TEXT_DIM


def build_sd3(path: Path) -> None:
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
    from transformers import CLIPTextModelWithProjection

    transformer = SD3Transformer2DModel(
        sample_size=32, patch_size=2, in_channels=16, num_layers=1, attention_head_dim=8, num_attention_heads=4,
        caption_projection_dim=32, joint_attention_dim=_JOINT, pooled_projection_dim=2 * TEXT_DIM, out_channels=16,
    )
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, vae=flat_vae(16), scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=CLIPTextModelWithProjection(clip_config()), tokenizer=clip_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(clip_config()), tokenizer_2=clip_tokenizer(),
        text_encoder_3=t5_encoder(_JOINT), tokenizer_3=t5_tokenizer(),
    )
    pipe.save_pretrained(str(path))


TWINS = {"sd3": TwinSpec(family="sd3", kind="t2i", build=build_sd3, version=2)}  # 2: 16 latent channels
