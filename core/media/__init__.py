"""Media in and out: sniffing and codecs, audio, memes, and the sandbox where members' files are decoded.

Kept light: `python -m core.media.sandbox` helpers import this package, never the models."""
