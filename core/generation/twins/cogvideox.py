"""CogVideoX T2V (sinusoidal positions, any size) and I2V (rotary + learned positions, like the 5B I2V: one
size only): tiny twins sized as in diffusers' own CogVideoX tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.generation.twins import TwinSpec
from core.generation.twins.parts import T5_DIM, t5_encoder, t5_tokenizer

# The twin I2V's trained size: 4x4 latents (32 px) and 9 frames.
I2V_SIZE, I2V_FRAMES = 32, 9
TEXT_LENGTH = 226  # the family's max_sequence_length; learned positions are sized by it


def _vae() -> Any:
    from diffusers import AutoencoderKLCogVideoX

    return AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )


def _parts() -> dict[str, Any]:
    from diffusers import CogVideoXDDIMScheduler

    return dict(vae=_vae(), text_encoder=t5_encoder(), tokenizer=t5_tokenizer(),
                scheduler=CogVideoXDDIMScheduler(timestep_spacing="trailing"))


def _t2v(path: Path) -> None:
    from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel

    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=T5_DIM, num_layers=1, sample_width=4, sample_height=4, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=TEXT_LENGTH,
    )
    CogVideoXPipeline(transformer=transformer, **_parts()).save_pretrained(str(path))


def _i2v(path: Path) -> None:
    from diffusers import CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel

    latent = I2V_SIZE // 8
    transformer = CogVideoXTransformer3DModel(
        # Noise and image latents side by side: twice the VAE's channels in.
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=T5_DIM, num_layers=1, sample_width=latent, sample_height=latent, sample_frames=I2V_FRAMES,
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=TEXT_LENGTH,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    CogVideoXImageToVideoPipeline(transformer=transformer, **_parts()).save_pretrained(str(path))


TWINS = {
    "cogvideox-t2v": TwinSpec(family="cogvideox", kind="t2v", build=_t2v),
    "cogvideox-i2v": TwinSpec(family="cogvideox", kind="i2v", build=_i2v),
}
