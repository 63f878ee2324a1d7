"""Members' attachments: checked from their bytes (never their names or declared types), decoded once in a
helper process, and turned into the references and uploads a request stores only after its guards pass."""

from __future__ import annotations

from core.contract import Attachment
from core.errors import CommandError, MediaError
from core.i18n import _
from core.media.codecs import sniff
from core.media.sizes import human_limit, human_size
from core.media.untrusted import UntrustedMedia
from core.queue.blobs import BlobStore, Upload
from core.service.grammar import ParsedCommand
from core.settings import Settings
from core.types import MediaRef, MediaType, Requester


async def check_references(settings: Settings, blobs: BlobStore, parsed: ParsedCommand,
                           attachments: list[Attachment]) -> list[tuple[MediaRef, Upload]]:
    """Check every attachment from its bytes, in memory: nothing is stored before the request guards pass."""
    assert parsed.kind is not None
    refs = [await check_attachment(settings, blobs, att) for att in attachments]
    if parsed.kind.needs_image and not any(r.media_type in (MediaType.IMAGE, MediaType.VIDEO) for r, _upload in refs):
        raise CommandError(_("/{command} needs an image: attach one to your message, or reply to a message "
                             "that has one, e.g. /{command} {prompt}", command=parsed.command,
                             prompt=parsed.prompt or "make it snow"))
    return refs


async def check_attachment(settings: Settings, blobs: BlobStore, att: Attachment) -> tuple[MediaRef, Upload]:
    """Check an attachment from its bytes: its reference for the job, and the upload that stores it."""
    s = settings
    name = safe_filename(att.filename)
    size = len(att.data)
    if size == 0:
        raise MediaError(_("{name} is empty.", name=name) if name else _("The attached file is empty."))
    if size > s.max_reference_bytes:
        fields = {"size": human_size(size), "limit": human_limit(s.max_reference_bytes)}
        raise MediaError(_("{name} is {size}; the limit is {limit}. Send a smaller file.", name=name, **fields)
                         if name else _("That file is {size}; the limit is {limit}. Send a smaller file.", **fields))
    kind = sniff(att.data)
    if kind is None:
        formats = "PNG, JPEG, WebP, GIF, MP4, WebM, MP3, OGG, WAV, M4A"
        raise MediaError(_("{name} is not a supported image, video or audio file ({formats}).", name=name,
                           formats=formats) if name else
                         _("That file is not a supported image, video or audio file ({formats}).", formats=formats))

    # Decoded once, completely, in a limited helper process: what fails here costs nothing, and
    # what passes will decode in the job.
    checked = await UntrustedMedia(s).check(att.data, kind, s.max_frames)
    upload = Upload(blobs.new_id(), att.data, kind.mime)
    return MediaRef(blob_key=upload.blob_id, mime=kind.mime, media_type=kind.media_type, name=name, size=size,
                    width=checked.width, height=checked.height, duration_s=checked.duration_s), upload


def blob_owner(requester: Requester) -> str:
    """Whose storage budget a member's attachments count against."""
    return f"{requester.platform}:{requester.user_id}"


def safe_filename(name: str) -> str:
    """The bare file name of an attachment: adapters may pass a download URL (Telegram's carries the
    bot token), which must never reach job payloads, Redis or logs."""
    base = name.split("?", 1)[0].split("#", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return base[:100]
