"""Download Discord attachments ourselves: only from Discord's CDN, with the size cap enforced while streaming."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import yarl

from core.errors import DownloadError
from core.i18n import _
from core.media import human_limit, human_size
from core.service import Attachment

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Remote:
    """What Discord tells us about an attachment (never trusted for the type)."""

    url: str
    filename: str
    size: int
    content_type: str = ""


async def download(session: aiohttp.ClientSession, remote: Remote, *, max_bytes: int, allowed_hosts: list[str],
                   timeout_s: float) -> Attachment:
    """Fetch one attachment; refuses other hosts and stops reading as soon as the cap is passed."""
    name = remote.filename or "attachment"
    if remote.size > max_bytes:
        raise DownloadError(_("{name} is {size}; the limit is {limit}. Send a smaller file.", name=name,
                              size=human_size(remote.size), limit=human_limit(max_bytes)))
    host = yarl.URL(remote.url).host or ""
    if host not in allowed_hosts:
        raise DownloadError(_("I can only read files uploaded to Discord; {name} is not one.", name=name))
    buf = bytearray()
    try:
        async with session.get(remote.url, timeout=aiohttp.ClientTimeout(total=timeout_s),
                               allow_redirects=False) as resp:
            if resp.status != 200:
                raise DownloadError(_("I couldn't download {name} (HTTP {status}). Upload it again.", name=name,
                                      status=resp.status))
            async for chunk in resp.content.iter_chunked(CHUNK):
                buf.extend(chunk)
                if len(buf) > max_bytes:  # the declared size can lie; the bytes cannot
                    raise DownloadError(_("{name} is larger than {limit}. Send a smaller file.", name=name,
                                          limit=human_limit(max_bytes)))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DownloadError(_("I couldn't download {name} ({problem}). Try again.", name=name,
                              problem=type(exc).__name__)) from exc
    return Attachment(bytes(buf), name[:100], remote.content_type)
