"""Stable Diffusion x4 upscaler: a tiny random-weight twin (the architecture of diffusers' own fast tests, at
toy widths), loading as StableDiffusionUpscalePipeline: a 16 px image comes back 64 px."""

from __future__ import annotations

from pathlib import Path

from core.generation.tiny_models import remove_tokenizer_source, tiny_clip_tokenizer
from core.generation.twins import TwinSpec


def build_upscaler(path: Path) -> None:
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    # in_channels 7: 4 latent channels and the 3 of the (noised) low-resolution image; the class embedding
    # carries the noise level, so it needs max_noise_level + 1 classes at most (the pipeline checks 350).
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32, 64), layers_per_block=1, sample_size=32, in_channels=7, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        attention_head_dim=8, use_linear_projection=True, only_cross_attention=(True, True, False),
        num_class_embeds=400, norm_num_groups=8,
    )
    # Three blocks: the decoder doubles twice, so latents at the input's size decode 4x larger.
    vae = AutoencoderKL(
        block_out_channels=[32, 32, 64], in_channels=3, out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
        latent_channels=4, norm_num_groups=8, scaling_factor=0.08333,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=128, hidden_act="gelu",
    ))
    src = path / "_tokenizer_src"
    pipe = StableDiffusionUpscalePipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tiny_clip_tokenizer(src),
        low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"),
        max_noise_level=350,
    )
    pipe.save_pretrained(str(path))
    remove_tokenizer_source(src)


TWINS = {"sd-x4-upscaler": TwinSpec(family="sd-upscale", kind="upscale", build=build_upscaler)}
