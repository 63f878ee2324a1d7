"""Media in and out: sniffing and codecs (`codecs`), audio, memes, and members' files decoded in limited helper
processes (`untrusted`, `sandbox`). Errors about media are `core.errors.MediaError`.

Kept light: `python -m core.media.sandbox` helpers import this package, never the models."""

from core.media.audio import PcmAudio, fit_to
from core.media.codecs import encode_gif, encode_mp4, encode_png, encode_webp, sniff
from core.media.memes import render_meme

__all__ = ["PcmAudio", "encode_gif", "encode_mp4", "encode_png", "encode_webp", "fit_to", "render_meme", "sniff"]
