"""Where media bytes live: a media store (local filesystem or an S3-API bucket); Redis keeps only ids and metadata."""

from core.storage.media_store import MediaObject, MediaStore, build_media_store, valid_id
from core.storage.spool import seekable

__all__ = ["MediaObject", "MediaStore", "build_media_store", "seekable", "valid_id"]
