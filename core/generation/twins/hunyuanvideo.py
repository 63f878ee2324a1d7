"""HunyuanVideo T2V (Llama + CLIP text encoders, guidance-distilled transformer) and I2V (a Llava text encoder
that reads the image, latent-concat transformer): tiny twins sized as in diffusers' own HunyuanVideo tests.

The Llama tokenizer is word-level over the pipelines' own prompt templates, so their fixed crops land about
where they do with the real tokenizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.generation.twins import TwinSpec
from core.generation.twins.parts import LLAMA_SPECIAL, clip_tokenizer, llama_tokenizer

LLAMA_DIM, CLIP_DIM = 16, 8


def _templates() -> str:
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE as T2V
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_image2video import (
        DEFAULT_PROMPT_TEMPLATE as I2V,
    )

    return str(T2V["template"]) + str(I2V["template"])


def _llama_config() -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=LLAMA_SPECIAL.index("<pad>"), hidden_size=LLAMA_DIM,
        intermediate_size=37, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=3, vocab_size=128,
        max_position_embeddings=2048,
    )


def _transformer(in_channels: int, guidance: bool, condition: str | None) -> Any:
    from diffusers import HunyuanVideoTransformer3DModel

    return HunyuanVideoTransformer3DModel(
        in_channels=in_channels, out_channels=4, num_attention_heads=2, attention_head_dim=10, num_layers=1,
        num_single_layers=1, num_refiner_layers=1, patch_size=1, patch_size_t=1, guidance_embeds=guidance,
        text_embed_dim=LLAMA_DIM, pooled_projection_dim=CLIP_DIM, rope_axes_dim=(2, 4, 4),
        image_condition_type=condition,
    )


def _parts() -> dict[str, Any]:
    from diffusers import AutoencoderKLHunyuanVideo, FlowMatchEulerDiscreteScheduler
    from transformers import CLIPTextConfig, CLIPTextModel

    vae = AutoencoderKLHunyuanVideo(
        in_channels=3, out_channels=3, latent_channels=4, down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        act_fn="silu", norm_num_groups=4, scaling_factor=0.476986, spatial_compression_ratio=8,
        temporal_compression_ratio=4, mid_block_add_attention=True,
    )
    text_encoder_2 = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=CLIP_DIM, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=128, projection_dim=32,
    ))
    return dict(vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), tokenizer=llama_tokenizer(_templates()),
                text_encoder_2=text_encoder_2, tokenizer_2=clip_tokenizer())


def _t2v(path: Path) -> None:
    from diffusers import HunyuanVideoPipeline
    from transformers import LlamaModel

    pipe = HunyuanVideoPipeline(transformer=_transformer(4, guidance=True, condition=None),
                                text_encoder=LlamaModel(_llama_config()), **_parts())
    pipe.save_pretrained(str(path))


def _i2v(path: Path) -> None:
    from diffusers import HunyuanVideoImageToVideoPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, LlavaConfig, LlavaForConditionalGeneration

    image = LLAMA_SPECIAL.index("<image>")
    # 336 px in 14 px patches: the 576 image tokens the pipeline's template reserves.
    vision = CLIPVisionConfig(hidden_size=8, intermediate_size=16, projection_dim=8, num_attention_heads=2,
                              num_hidden_layers=2, image_size=336, patch_size=14)
    text_encoder = LlavaForConditionalGeneration(LlavaConfig(
        vision_config=vision, text_config=_llama_config(), image_token_index=image,
        pad_token_id=LLAMA_SPECIAL.index("<pad>"),
    ))
    pipe = HunyuanVideoImageToVideoPipeline(
        # Noise, image latents and a mask channel in.
        transformer=_transformer(2 * 4 + 1, guidance=False, condition="latent_concat"), text_encoder=text_encoder,
        image_processor=CLIPImageProcessor(crop_size=336, size=336), **_parts(),
    )
    pipe.save_pretrained(str(path))


TWINS = {
    "hunyuanvideo-t2v": TwinSpec(family="hunyuanvideo", kind="t2v", build=_t2v),
    "hunyuanvideo-i2v": TwinSpec(family="hunyuanvideo", kind="i2v", build=_i2v),
}
