"""Download Discord attachments ourselves: only from Discord's CDN, with the size cap enforced while streaming."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import yarl

from core.errors import DownloadError
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
        raise DownloadError(
            f"{name} is {human_size(remote.size)}; the limit is {human_limit(max_bytes)}. Send a smaller file.")
    host = yarl.URL(remote.url).host or ""
    if host not in allowed_hosts:
        raise DownloadError(f"I can only read files uploaded to Discord; {name} is not one.")
    buf = bytearray()
    try:
        async with session.get(remote.url, timeout=aiohttp.ClientTimeout(total=timeout_s),
                               allow_redirects=False) as resp:
            if resp.status != 200:
                raise DownloadError(f"I couldn't download {name} (HTTP {resp.status}). Upload it again.")
            async for chunk in resp.content.iter_chunked(CHUNK):
                buf.extend(chunk)
                if len(buf) > max_bytes:  # the declared size can lie; the bytes cannot
                    raise DownloadError(f"{name} is larger than {human_limit(max_bytes)}. Send a smaller file.")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DownloadError(f"I couldn't download {name} ({type(exc).__name__}). Try again.") from exc
    return Attachment(bytes(buf), name[:100], remote.content_type)
