"""Media in and out: sniffing and codecs, audio, memes, and the sandbox where members' files are decoded.

Kept light: `python -m core.media.sandbox` helpers import this package, never the models."""

from core.media.audio import PcmAudio, fit_to
from core.media.codecs import MediaError, encode_gif, encode_mp4, encode_png, encode_webp
from core.media.fit import Fitted, UploadLimits, fit_upload
from core.media.sizes import human_limit, human_size

__all__ = [
    "Fitted",
    "MediaError",
    "PcmAudio",
    "UploadLimits",
    "encode_gif",
    "encode_mp4",
    "encode_png",
    "encode_webp",
    "fit_to",
    "fit_upload",
    "human_limit",
    "human_size",
]
