"""Full-size architectures for the GPU bench, built from their published configs with random weights.

Speed does not depend on weight values, so a model built from its checkpoint's `config.json` numbers runs exactly
as fast as the real checkpoint. Every number in `FULL` is copied from the config file named beside it (diffusers
layout on the Hugging Face hub) and checked against the diffusers/transformers constructors' argument names;
`SMOKE` keeps the same keys at the tiny twins' sizes so `--smoke` runs the same code on a CPU.

Tokenizers are the offline character-level ones of the tiny twins (`core.generation.twins.image_parts`); the
embedding tables keep the real vocabulary sizes, and the pipelines pad prompts to the real sequence lengths
(77 for CLIP, `max_sequence_length` for T5), so the text encoders do the real amount of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# ---- published configs -------------------------------------------------------------------------------------
# CLIP ViT-L/14 text tower: openai/clip-vit-large-patch14 config.json (= text_encoder of SDXL base and FLUX.1).
CLIP_L = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768)
# OpenCLIP ViT-bigG/14 text tower: stabilityai/stable-diffusion-xl-base-1.0 text_encoder_2/config.json.
CLIP_G = dict(vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
              max_position_embeddings=77, hidden_act="gelu", projection_dim=1280)
# T5 v1.1 XXL encoder: black-forest-labs/FLUX.1-dev text_encoder_2/config.json (= LTX-Video's text_encoder).
T5_XXL = dict(vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
              relative_attention_num_buckets=32, feed_forward_proj="gated-gelu")
# UMT5-XXL encoder: Wan-AI/Wan2.1-T2V-1.3B-Diffusers text_encoder/config.json.
UMT5_XXL = dict(T5_XXL, vocab_size=256384)

FULL: dict[str, dict[str, Any]] = {
    # stabilityai/stable-diffusion-xl-base-1.0 unet/config.json and vae/config.json (SDXL-Turbo: same files).
    "sdxl": dict(
        unet=dict(sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
                  block_out_channels=(320, 640, 1280), attention_head_dim=(5, 10, 20),
                  down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                  up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                  transformer_layers_per_block=(1, 2, 10), cross_attention_dim=2048, use_linear_projection=True,
                  addition_embed_type="text_time", addition_time_embed_dim=256,
                  projection_class_embeddings_input_dim=2816),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, sample_size=1024,
                 down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                 scaling_factor=0.13025),
        clip=CLIP_L, clip_2=CLIP_G,
    ),
    # black-forest-labs/FLUX.1-dev transformer/config.json and vae/config.json (schnell: guidance_embeds false).
    "flux": dict(
        transformer=dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38, attention_head_dim=128,
                         num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768,
                         guidance_embeds=True, axes_dims_rope=(16, 56, 56)),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=16, sample_size=1024,
                 down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                 use_quant_conv=False, use_post_quant_conv=False, scaling_factor=0.3611, shift_factor=0.1159),
        clip=CLIP_L, t5=T5_XXL,
    ),
    # Lightricks/LTX-Video (0.9.0, 2B) transformer/config.json and vae/config.json: the diffusers classes'
    # defaults are these numbers (28 layers, 32 heads x 64, caption_channels 4096; VAE 128-channel latents).
    "ltx": dict(
        transformer=dict(in_channels=128, out_channels=128, num_attention_heads=32, attention_head_dim=64,
                         cross_attention_dim=2048, num_layers=28, caption_channels=4096),
        vae=dict(latent_channels=128, block_out_channels=(128, 256, 512, 512),
                 decoder_block_out_channels=(128, 256, 512, 512), layers_per_block=(4, 3, 3, 3, 4),
                 decoder_layers_per_block=(4, 3, 3, 3, 4), spatio_temporal_scaling=(True, True, True, False),
                 decoder_spatio_temporal_scaling=(True, True, True, False), patch_size=4, patch_size_t=1),
        t5=T5_XXL,
    ),
    # Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json and vae/config.json.
    "wan": dict(
        transformer=dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                         out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30,
                         cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=1024),
        vae=dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                 temperal_downsample=[False, True, True]),
        t5=UMT5_XXL,
    ),
}

# The same keys at the tiny twins' sizes (core/generation/twins/*): CPU, seconds.
_CLIP_S = dict(vocab_size=128, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
               max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=32)
_T5_S = dict(vocab_size=128, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, relative_attention_num_buckets=8,
             feed_forward_proj="gated-gelu")
_VAE_S = dict(block_out_channels=(8, 16), layers_per_block=1, sample_size=32, norm_num_groups=4,
              down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
SMOKE: dict[str, dict[str, Any]] = {
    "sdxl": dict(
        unet=dict(sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
                  attention_head_dim=(2, 4), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                  up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), transformer_layers_per_block=(1, 1),
                  cross_attention_dim=64, use_linear_projection=True, addition_embed_type="text_time",
                  addition_time_embed_dim=8, projection_class_embeddings_input_dim=6 * 8 + 32, norm_num_groups=4),
        vae=dict(_VAE_S, latent_channels=4), clip=_CLIP_S, clip_2=_CLIP_S,
    ),
    "flux": dict(
        transformer=dict(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
                         num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=True,
                         axes_dims_rope=(4, 4, 8)),
        vae=dict(_VAE_S, latent_channels=4, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.1159),
        clip=_CLIP_S, t5=_T5_S,
    ),
    "ltx": dict(
        transformer=dict(in_channels=8, out_channels=8, num_attention_heads=4, attention_head_dim=8,
                         cross_attention_dim=32, num_layers=2, caption_channels=32),
        vae=dict(latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                 layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
                 spatio_temporal_scaling=(True, True, False, False),
                 decoder_spatio_temporal_scaling=(True, True, False, False), patch_size=1, patch_size_t=1),
        t5=_T5_S,
    ),
    "wan": dict(
        transformer=dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                         out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                         qk_norm="rms_norm_across_heads", rope_max_seq_len=32),
        vae=dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                 temperal_downsample=[False, True, True]),
        t5=_T5_S,
    ),
}


# ---- building ----------------------------------------------------------------------------------------------
def _clip(cfg: dict[str, Any], projection: bool) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **cfg)
    return CLIPTextModelWithProjection(config) if projection else CLIPTextModel(config)


def _t5(cfg: dict[str, Any], umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(**cfg)) if umt5 else T5EncoderModel(T5Config(**cfg))


def _build_sdxl(c: dict[str, Any]) -> Any:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    from core.generation.twins.parts import clip_tokenizer

    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear", timestep_spacing="leading")
    return StableDiffusionXLPipeline(
        unet=UNet2DConditionModel(**c["unet"]), vae=AutoencoderKL(**c["vae"]), scheduler=scheduler,
        text_encoder=_clip(c["clip"], False), tokenizer=clip_tokenizer(),
        text_encoder_2=_clip(c["clip_2"], True), tokenizer_2=clip_tokenizer(),
    )


def _build_flux(c: dict[str, Any]) -> Any:
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    from core.generation.twins.parts import clip_tokenizer, t5_tokenizer

    # FLUX.1-dev scheduler/scheduler_config.json: shifted, resolution-dependent.
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15)
    return FluxPipeline(
        transformer=FluxTransformer2DModel(**c["transformer"]), vae=AutoencoderKL(**c["vae"]), scheduler=scheduler,
        text_encoder=_clip(c["clip"], False), tokenizer=clip_tokenizer(),
        text_encoder_2=_t5(c["t5"]), tokenizer_2=t5_tokenizer(),
    )


def _build_ltx(c: dict[str, Any]) -> Any:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    from core.generation.twins.parts import t5_tokenizer

    return LTXPipeline(
        transformer=LTXVideoTransformer3DModel(**c["transformer"]), vae=AutoencoderKLLTXVideo(**c["vae"]),
        scheduler=FlowMatchEulerDiscreteScheduler(), text_encoder=_t5(c["t5"]), tokenizer=t5_tokenizer(),
    )


def _build_wan(c: dict[str, Any]) -> Any:
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    from core.generation.twins.parts import t5_tokenizer

    return WanPipeline(
        transformer=WanTransformer3DModel(**c["transformer"]), vae=AutoencoderKLWan(**c["vae"]),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), text_encoder=_t5(c["t5"], umt5=True),
        tokenizer=t5_tokenizer(),
    )


BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "sdxl": _build_sdxl, "flux": _build_flux, "ltx": _build_ltx, "wan": _build_wan,
}
# The catalog family and checkpoint kind each architecture is served as (core.models).
FAMILY = {"sdxl": ("sdxl", "t2i"), "flux": ("flux", "t2i"), "ltx": ("ltx-video", "t2v"), "wan": ("wan", "t2v")}


def build(arch: str, smoke: bool, device: str, dtype: Any) -> Any:
    """The architecture's pipeline with random weights, created directly on `device` in `dtype` (no download,
    no CPU copy of a 12B model first)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # parameters are born in bf16: half the memory and no conversion pass
    try:
        with torch.device(device):
            pipe = BUILDERS[arch]((SMOKE if smoke else FULL)[arch])
    finally:
        torch.set_default_dtype(previous)
    pipe.to(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


# ---- workloads: what one row of the table runs --------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """One row: an architecture at the size, steps and guidance its model is used with."""

    name: str
    arch: str
    width: int
    height: int
    steps: int
    anchor: str
    frames: int = 0  # 0: an image
    guidance: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more pipeline arguments (e.g. T5 sequence length)

    @property
    def is_video(self) -> bool:
        return self.frames > 0

    def call(self, batch: int = 1, steps: int | None = None) -> dict[str, Any]:
        """The pipeline call's arguments for `batch` outputs and `steps` steps (default: the workload's)."""
        call: dict[str, Any] = dict(prompt="a red fox in the snow, golden hour", width=self.width, height=self.height,
                                    num_inference_steps=steps or self.steps, **self.extra)
        if self.guidance is not None:
            call["guidance_scale"] = self.guidance
        if self.is_video:
            call["num_frames"] = self.frames
        else:
            call["num_images_per_prompt"] = batch
        return call


# Anchors, with sources (bench/README.md repeats them):
#   xDiT performance docs (FLUX.1-dev, 1 x H100): 6.71 s eager, 4.30 s compiled, 1024^2 / 28 steps.
#   FLUX.1-schnell 1024^2 / 4 steps about 1.5 s on H100 PCIe.
#   diffusers "accelerate inference of text-to-image diffusion models" tutorial: SDXL base 1024^2 / 30 steps
#   2.43 s on A100 with torch.compile + dynamic int8.
#   Stability AI's SDXL-Turbo announcement: 512^2 / 1 step 207 ms end to end on A100.
#   LTX-Video paper (arXiv 2501.00103): a 5 s 768x512 clip (121 frames) in about 2 s on H100.
#   Wan 2.1 README: I2V 14B 480P / 81 frames on H200 366 s with the official code (no 1.3B H200 figure).
def workloads(smoke: bool) -> list[Workload]:
    """Every row, at full size or (smoke) the tiny twins' sizes with the same steps structure cut to 2."""
    if smoke:
        return [
            Workload("sdxl", "sdxl", 64, 64, 2, "", guidance=5.0),
            Workload("sdxl-turbo", "sdxl", 64, 64, 1, "", guidance=0.0),
            Workload("flux-dev", "flux", 32, 32, 2, "", guidance=3.5, extra=dict(max_sequence_length=16)),
            Workload("flux-schnell", "flux", 32, 32, 2, "", guidance=0.0, extra=dict(max_sequence_length=16)),
            Workload("ltx-video-2b", "ltx", 32, 32, 2, "", frames=9, guidance=3.0, extra=dict(max_sequence_length=16)),
            Workload("wan-2.1-1.3b", "wan", 64, 32, 2, "", frames=9, guidance=5.0, extra=dict(max_sequence_length=16)),
        ]
    return [
        Workload("sdxl", "sdxl", 1024, 1024, 30, "2.43 s A100, compile+int8", guidance=5.0),
        Workload("sdxl-turbo", "sdxl", 512, 512, 1, "0.207 s A100, end to end", guidance=0.0),
        Workload("flux-dev", "flux", 1024, 1024, 28, "6.71 s eager / 4.30 s compiled, H100", guidance=3.5,
                 extra=dict(max_sequence_length=512)),
        # schnell's transformer differs only by the guidance embedder (one small MLP): the dev build serves both.
        Workload("flux-schnell", "flux", 1024, 1024, 4, "~1.5 s H100 PCIe", guidance=0.0,
                 extra=dict(max_sequence_length=256)),
        Workload("ltx-video-2b", "ltx", 768, 512, 50, "~2 s H100 (paper)", frames=121, guidance=3.0,
                 extra=dict(max_sequence_length=128)),
        Workload("wan-2.1-1.3b", "wan", 832, 480, 50, "(14B I2V: 366 s H200, official)", frames=81, guidance=5.0,
                 extra=dict(max_sequence_length=512)),
    ]


ARCHS = ("sdxl", "flux", "ltx", "wan")


# ---- FLOPs -------------------------------------------------------------------------------------------------
def flux_step_flops(cfg: dict[str, Any], width: int, height: int, text_tokens: int, vae_factor: int = 8) -> float:
    """FLOPs of one FLUX transformer forward (2 per multiply-add): the per-token linear layers of both streams
    and the single blocks, plus attention (QK^T and AV) over the joint sequence. Modulation MLPs act on one
    vector per block and are left out. At 1024^2 with 512 text tokens this is about 74 TFLOP."""
    d = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    mlp = 4 * d
    image_tokens = (width // vae_factor // 2) * (height // vae_factor // 2)  # latents are packed 2x2
    tokens = image_tokens + text_tokens
    per_token_double = 4 * d * d + 2 * d * mlp  # qkv + out, MLP in + out: each token through its own stream
    per_token_single = 3 * d * d + d * mlp + (d + mlp) * d  # qkv, MLP in, fused out projection
    linear = 2 * tokens * (cfg["num_layers"] * per_token_double + cfg["num_single_layers"] * per_token_single)
    attention = 4 * tokens * tokens * d * (cfg["num_layers"] + cfg["num_single_layers"])
    return float(linear + attention)
