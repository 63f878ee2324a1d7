"""Media in and out: sniffing and codecs (`codecs`), audio, memes, and members' files decoded in limited helper
processes (`untrusted`, `sandbox`). Errors about media are `core.errors.MediaError`.

Kept light: `python -m core.media.sandbox` helpers import this package, never the models."""

from core.media.audio import PcmAudio, fit_to
from core.media.codecs import encode_gif, encode_mp4, encode_png, encode_webp, sniff
from core.media.fit import Fitted, UploadLimits, fit_upload, fits_as_is
from core.media.memes import render_meme
from core.media.sizes import human_limit, human_size

__all__ = ["Fitted", "PcmAudio", "UploadLimits", "encode_gif", "encode_mp4", "encode_png", "encode_webp", "fit_to",
           "fit_upload", "fits_as_is", "human_limit", "human_size", "render_meme", "sniff"]
