"""Parts the image twins share, built offline: character-level tokenizers, tiny text encoders, a flat VAE."""

from __future__ import annotations

from typing import Any

TEXT_DIM = 32  # every tiny CLIP's hidden size and projection


def clip_config() -> Any:
    """A two-layer CLIP text config matching `clip_tokenizer` (eos 1, as its vocabulary has it)."""
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=TEXT_DIM, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=128,
        projection_dim=TEXT_DIM,
    )


def t5_encoder(d_model: int) -> Any:
    """A one-layer T5 encoder of width `d_model`, vocabulary big enough for `t5_tokenizer`."""
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(
        vocab_size=128, d_model=d_model, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8,
    ))


def flat_vae(latent_channels: int) -> Any:
    """A one-block AutoencoderKL (scale factor 1): latents are the image's size, so 32 px stays cheap."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1,
        latent_channels=latent_channels, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
        shift_factor=0.0609, scaling_factor=1.5035,
    )
