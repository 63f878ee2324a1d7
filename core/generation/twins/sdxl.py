"""Stable Diffusion XL: a tiny twin with both text encoders and the text-time conditioning (Turbo is the same)."""

from __future__ import annotations

from pathlib import Path

from core.generation.twins import TwinSpec
from core.generation.twins.image_parts import TEXT_DIM, clip_config
from core.generation.twins.parts import clip_tokenizer

_TIME_DIM = 8


def build_sdxl(path: Path) -> None:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=_TIME_DIM, transformer_layers_per_block=(1, 1),
        # Six size/crop numbers, each embedded, plus the second encoder's pooled projection.
        projection_class_embeddings_input_dim=6 * _TIME_DIM + TEXT_DIM,
        cross_attention_dim=2 * TEXT_DIM, norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 16], in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], sample_size=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, steps_offset=1, beta_schedule="scaled_linear", timestep_spacing="leading",
    )
    pipe = StableDiffusionXLPipeline(
        unet=unet, vae=vae, scheduler=scheduler,
        text_encoder=CLIPTextModel(clip_config()), tokenizer=clip_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(clip_config()), tokenizer_2=clip_tokenizer(),
    )
    pipe.save_pretrained(str(path))


TWINS = {"sdxl": TwinSpec(family="sdxl", kind="t2i", build=build_sdxl)}
