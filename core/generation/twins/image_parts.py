"""Parts the image twins share, built offline: character-level tokenizers, tiny text encoders, a flat VAE."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
TEXT_DIM = 32  # every tiny CLIP's hidden size and projection


def clip_tokenizer() -> Any:
    """A CLIPTokenizer over a character-level BPE vocabulary (no download; 77 tokens like the real ones)."""
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in CHARS:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")
        return CLIPTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"), model_max_length=77)


def t5_tokenizer() -> Any:
    """A sentencepiece-free T5TokenizerFast from character pieces."""
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in CHARS] + [("\u2581" + c, -2.5) for c in CHARS]
    return T5TokenizerFast(vocab=pieces, extra_ids=0)


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
