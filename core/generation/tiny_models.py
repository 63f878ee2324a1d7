"""Build tiny random-weight diffusers pipelines from config and save them with `save_pretrained`.

They have the real architectures of the production families (Stable Diffusion-class image model,
LTX-Video-class video model) at toy sizes, so the same `from_pretrained` code path loads them and
a whole job runs on a CPU in well under a second. Their output is noise: they exist for tests and
for a first run on a machine without downloaded weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARKER = "reelsmith-tiny.json"
TINY_VERSION = 1
IMAGE_SUBDIR = "image"
VIDEO_SUBDIR = "video"
_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def tiny_models_ready(root: Path) -> bool:
    """True when `root` holds a complete tiny model set of the current version."""
    marker = root / MARKER
    if not marker.is_file():
        return False
    try:
        return bool(json.loads(marker.read_text()).get("version") == TINY_VERSION)
    except ValueError:
        return False


def build_tiny_models(root: Path, seed: int = 0) -> Path:
    """Create the tiny image and video pipelines under `root` (idempotent)."""
    root = Path(root)
    if tiny_models_ready(root):
        return root
    import torch

    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    build_image(root / IMAGE_SUBDIR)
    build_video(root / VIDEO_SUBDIR)
    (root / MARKER).write_text(json.dumps({"version": TINY_VERSION}))
    return root


def build_image(path: Path) -> None:
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32, norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4, norm_num_groups=8,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=128,
    ))
    tokenizer = tiny_clip_tokenizer(path / "_tokenizer_src")
    scheduler = EulerAncestralDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(str(path))
    remove_tokenizer_source(path / "_tokenizer_src")


def tiny_clip_tokenizer(src: Path) -> Any:
    """A CLIPTokenizer over a character-level BPE vocabulary written to `src`: no download.

    The pipeline's `save_pretrained` copies it; remove `src` after with `remove_tokenizer_source`.
    """
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in _CHARS:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    src.mkdir(parents=True, exist_ok=True)
    (src / "vocab.json").write_text(json.dumps(vocab))
    (src / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(src / "vocab.json"), str(src / "merges.txt"), model_max_length=77)


def remove_tokenizer_source(src: Path) -> None:
    for f in src.iterdir():
        f.unlink()
    src.rmdir()


def build_video(path: Path) -> None:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel, T5TokenizerFast

    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
        attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=128, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8,
    ))
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in _CHARS] + [("\u2581" + c, -2.5) for c in _CHARS]
    tokenizer = T5TokenizerFast(vocab=pieces, extra_ids=0)
    pipe = LTXPipeline(
        transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder, tokenizer=tokenizer,
    )
    pipe.save_pretrained(str(path))
