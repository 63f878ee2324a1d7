"""Attachments: find the media in a message (or the message it replies to) and download it via getFile.

Only bytes leave this module: file ids, file paths and download URLs (which embed the bot token)
stay in the bot process, and errors are reported by type, never with their text (it may hold a URL).

python-telegram-bot reads a whole download into memory before handing it over (`File.download_*` all go
through `BaseRequest.retrieve`, which returns the body's bytes), so a file is fetched here with a streamed httpx
GET instead, and cut off as soon as it passes the limit: what getFile said about its size is not trusted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import httpx
from telegram import Bot, File, Message, Sticker
from telegram.error import BadRequest, NetworkError, TelegramError

from bots.telegram.file_texts import IS_SIZE, NOT_DOWNLOADED, NOT_FETCHED, NOT_HANDED, TOO_BIG_TO_FETCH
from bots.telegram.retry import retrying
from core.errors import AttachmentError
from core.i18n import N_, _, translate
from core.media import human_limit, human_size
from core.service import Attachment

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
DOWNLOAD_TIMEOUT_S = 60.0
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Bot API getFile: "20 MB", counted in MiB as Telegram's apps count
ANIMATED_STICKER_TEXT = N_("That is an animated sticker (a vector animation), which I can't read. Send a regular "
                            "or video sticker, a photo, a GIF or a video instead.")  # translated where raised


class AttachmentRefused(AttachmentError):
    """An attachment we will not use; the message tells the member what to send instead."""


@dataclass(frozen=True)
class MediaItem:
    file_id: str
    label: str  # what the member sent: a key of `file_texts.KINDS` ("photo", "voice note" ...), English in logs
    filename: str
    mime: str = ""
    size: int | None = None
    refusal: str = ""  # why it cannot be used at all, known before fetching it (an N_ text, translated when shown)


def media_in(message: Message) -> MediaItem | None:
    """The media a message carries, if any (the largest size of a photo)."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return MediaItem(best.file_id, "photo", "photo.jpg", "image/jpeg", best.file_size)
    if message.animation:  # Telegram also fills `document` for animations; this is the precise one
        a = message.animation
        return MediaItem(a.file_id, "animation", _name(a.file_name, "animation.mp4"), a.mime_type or "", a.file_size)
    if message.video:
        v = message.video
        return MediaItem(v.file_id, "video", _name(v.file_name, "video.mp4"), v.mime_type or "", v.file_size)
    if message.video_note:
        n = message.video_note
        return MediaItem(n.file_id, "video note", "video_note.mp4", "video/mp4", n.file_size)
    if message.document:
        d = message.document
        return MediaItem(d.file_id, "file", _name(d.file_name, "file"), d.mime_type or "", d.file_size)
    if message.audio:
        au = message.audio
        return MediaItem(au.file_id, "audio file", _name(au.file_name, "audio"), au.mime_type or "", au.file_size)
    if message.voice:
        vo = message.voice
        return MediaItem(vo.file_id, "voice note", "voice.ogg", vo.mime_type or "audio/ogg", vo.file_size)
    if message.sticker:
        return _sticker(message.sticker)
    return None


def _sticker(st: Sticker) -> MediaItem:
    """Stickers come in three formats: WebP pictures, WebM videos and TGS (Lottie) animations."""
    if st.is_animated:
        return MediaItem(st.file_id, "animated sticker", "sticker.tgs", "application/x-tgsticker", st.file_size,
                         refusal=ANIMATED_STICKER_TEXT)
    if st.is_video:
        return MediaItem(st.file_id, "video sticker", "sticker.webm", "video/webm", st.file_size)
    return MediaItem(st.file_id, "sticker", "sticker.webp", "image/webp", st.file_size)


def _name(name: str | None, default: str) -> str:
    """A display name only (core never trusts it): no paths, no control characters, short."""
    clean = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name or "").strip()
    return clean[:100] or default


def _too_large(item: MediaItem, size: int | None, limit: int) -> AttachmentRefused:
    """The refusal of a file over `limit`; `size` None when nobody said how large it is (only that it is too big)."""
    how_big = (translate(IS_SIZE[item.label]).format(size=human_size(size)) if size is not None
               else translate(TOO_BIG_TO_FETCH[item.label]))
    where = (_("Telegram lets bots download files up to {limit}.", limit=human_limit(limit))
             if limit >= TELEGRAM_DOWNLOAD_LIMIT else _("I accept files up to {limit}.", limit=human_limit(limit)))
    return AttachmentRefused(f"{how_big} {where} "
                             + _("Send a smaller or compressed version (for videos: shorter or lower resolution)."))


def check_before_download(item: MediaItem, limit: int) -> None:
    """Refuse an item from what the message says (before anything is fetched): one we cannot use at all, or one
    whose stated size is over `limit`."""
    if item.refusal:
        raise AttachmentRefused(translate(item.refusal))
    if item.size is not None and item.size > limit:
        raise _too_large(item, item.size, limit)


async def download(bot: Bot, item: MediaItem, limit: int, attempts: int = 3) -> Attachment:
    """The file's bytes; refuses files over `limit` before downloading them."""
    check_before_download(item, limit)
    try:
        file = await retrying(lambda: bot.get_file(item.file_id), attempts=attempts, what="getFile")
    except BadRequest as exc:
        if "too big" in str(exc).lower():
            raise _too_large(item, item.size, limit) from None
        log.warning("getFile refused a %s (%s)", item.label, type(exc).__name__)
        raise AttachmentRefused(translate(NOT_HANDED[item.label])) from None
    except TelegramError as exc:
        log.warning("getFile failed for a %s (%s)", item.label, type(exc).__name__)
        raise AttachmentRefused(translate(NOT_FETCHED[item.label])) from None
    if file.file_size is not None and file.file_size > limit:
        raise _too_large(item, file.file_size, limit)
    try:
        data = await retrying(lambda: fetch(file, item, limit), attempts=attempts, what="file download")
    except (TelegramError, RuntimeError, OSError) as exc:
        log.warning("downloading a %s failed (%s)", item.label, type(exc).__name__)
        raise AttachmentRefused(translate(NOT_DOWNLOADED[item.label])) from None
    if len(data) > limit:
        raise _too_large(item, len(data), limit)
    return Attachment(data=data, filename=item.filename, declared_mime=item.mime)


class _Oversized(Exception):
    """The bytes passed the limit while streaming."""


async def fetch(file: File, item: MediaItem, limit: int) -> bytes:
    """The file's bytes, streamed and cut off past `limit` (refused then, however large it said it was)."""
    url = file.file_path or ""
    if not url.startswith(("http://", "https://")):  # a Bot API server in --local mode hands out paths
        data = bytes(await file.download_as_bytearray())
    else:
        try:
            data = await _stream(url, limit)
        except _Oversized:
            raise _too_large(item, None, limit) from None
    if len(data) > limit:
        raise _too_large(item, len(data), limit)
    return data


async def _stream(url: str, limit: int) -> bytes:
    buf = bytearray()
    try:
        async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=False) as client, \
                client.stream("GET", url) as resp:
            if resp.status_code >= 500:
                raise NetworkError(f"file download: HTTP {resp.status_code}")  # retried
            if resp.status_code != 200:
                raise BadRequest(f"file download: HTTP {resp.status_code}")
            async for chunk in resp.aiter_bytes(CHUNK):
                buf.extend(chunk)
                if len(buf) > limit:  # the size getFile reported can lie; the bytes cannot
                    raise _Oversized
    except httpx.HTTPError as exc:  # its text may hold the URL, and so the bot token
        raise NetworkError(f"file download: {type(exc).__name__}") from None
    return bytes(buf)
