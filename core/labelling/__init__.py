"""Every result labelled as AI-generated: caption and metadata, the visible badge, the invisible watermark,
C2PA signing, the provenance registry, the worker steps that apply them, and `/verify`."""
