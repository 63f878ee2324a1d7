"""Every result labelled as AI-generated: caption and metadata (`metadata`), the visible badge, the invisible
watermark, C2PA signing, the provenance registry, `/verify`, and the feature that applies them (`steps`)."""

from core.labelling.metadata import CAPTION_LIMIT, caption, mp4_metadata, xmp_packet
from core.labelling.steps import labelling_feature

__all__ = ["CAPTION_LIMIT", "caption", "labelling_feature", "mp4_metadata", "xmp_packet"]
