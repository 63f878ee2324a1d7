"""FLUX.1 and FLUX.1 Kontext: tiny twins (CLIP + T5 text encoders, a one-block transformer, a flat VAE).

Both embed distilled guidance like dev and Kontext dev (schnell differs only in `guidance_embeds=False`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.generation.twins import TwinSpec
from core.generation.twins.image_parts import TEXT_DIM, clip_config, flat_vae, t5_encoder
from core.generation.twins.parts import clip_tokenizer, t5_tokenizer

_T5_DIM = 32


def _components() -> dict[str, Any]:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextModel

    # Latents are packed 2x2, so one latent channel is four transformer channels.
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=_T5_DIM, pooled_projection_dim=TEXT_DIM,
        axes_dims_rope=[4, 4, 8], guidance_embeds=True,
    )
    return dict(
        transformer=transformer, vae=flat_vae(1), scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=CLIPTextModel(clip_config()), tokenizer=clip_tokenizer(),
        text_encoder_2=t5_encoder(_T5_DIM), tokenizer_2=t5_tokenizer(),
    )


def build_flux(path: Path) -> None:
    from diffusers import FluxPipeline

    FluxPipeline(**_components()).save_pretrained(str(path))


def build_flux_kontext(path: Path) -> None:
    from diffusers import FluxKontextPipeline

    FluxKontextPipeline(**_components()).save_pretrained(str(path))


TWINS = {
    "flux": TwinSpec(family="flux", kind="t2i", build=build_flux),
    "flux-kontext": TwinSpec(family="flux", kind="kontext", build=build_flux_kontext),
}
