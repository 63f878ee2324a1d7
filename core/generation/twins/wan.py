"""Wan 2.1 T2V, Wan 2.1 I2V (CLIP image encoder, 36-channel transformer) and Wan 2.2 TI2V (48-channel VAE,
`expand_timesteps`): tiny twins with the real classes, sized as in diffusers' own Wan tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.generation.twins import TwinSpec
from core.generation.twins.parts import T5_DIM, t5_encoder, t5_tokenizer


def _transformer(in_channels: int, out_channels: int, image_dim: int | None = None) -> Any:
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=in_channels,
        out_channels=out_channels, text_dim=T5_DIM, freq_dim=256, ffn_dim=32, num_layers=1, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32, image_dim=image_dim,
    )


def _vae_21() -> Any:
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def _text() -> dict[str, Any]:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return dict(text_encoder=t5_encoder(umt5=True), tokenizer=t5_tokenizer(),
                scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))


def _t2v(path: Path) -> None:
    from diffusers import WanPipeline

    WanPipeline(transformer=_transformer(16, 16), vae=_vae_21(), **_text()).save_pretrained(str(path))


def _i2v(path: Path) -> None:
    from diffusers import WanImageToVideoPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=4, num_hidden_layers=1, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=4,
    ))
    pipe = WanImageToVideoPipeline(
        # 16 noise + 4 mask + 16 image-latent channels: the shape a T2V checkpoint lacks.
        transformer=_transformer(36, 16, image_dim=4), vae=_vae_21(), image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=32, size=32), **_text(),
    )
    pipe.save_pretrained(str(path))


def _ti2v(path: Path) -> None:
    from diffusers import AutoencoderKLWan, WanPipeline

    vae = AutoencoderKLWan(
        base_dim=3, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
        latents_mean=[0.0] * 48, latents_std=[1.0] * 48, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        scale_factor_spatial=16, scale_factor_temporal=4, temperal_downsample=[False, True, True],
    )
    pipe = WanPipeline(transformer=_transformer(48, 48), vae=vae, expand_timesteps=True, **_text())
    pipe.save_pretrained(str(path))


TWINS = {
    "wan-2.1-t2v": TwinSpec(family="wan", kind="t2v", build=_t2v),
    "wan-2.1-i2v": TwinSpec(family="wan", kind="i2v", build=_i2v),
    "wan-2.2-ti2v": TwinSpec(family="wan", kind="ti2v", build=_ti2v),
}
