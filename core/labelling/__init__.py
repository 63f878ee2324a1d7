"""Every result labelled as AI-generated: caption and metadata, the visible badge, the invisible watermark,
C2PA signing, the provenance registry, the worker steps that apply them, and `/verify`."""

from core.labelling.metadata import CAPTION_LIMIT, caption, mp4_metadata, xmp_packet

__all__ = [
    "CAPTION_LIMIT",
    "caption",
    "mp4_metadata",
    "xmp_packet",
]
