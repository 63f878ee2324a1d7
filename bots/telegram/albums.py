"""Telegram albums: the items of one media group arrive as separate messages; collect them into one.

A member who sends several photos, videos or audio files at once sends an album: each item is its own
`Message` with the same `media_group_id`, and the caption (the command) is on one of them. The first
item of an album to reach the bot waits until no further item has arrived for `window_s` (at most
`MAX_WAIT_WINDOWS` windows in all) and then hands back the whole album in album order; the other items
only join it. This relies on the Application processing updates concurrently (`concurrent_updates`),
so the later items are handled while the first one waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from telegram import Message

log = logging.getLogger(__name__)

ALBUM_MAX_ITEMS = 10  # Telegram's own limit on a media group
MAX_WAIT_WINDOWS = 5  # an album that keeps growing is closed after this many windows
MAX_OPEN_ALBUMS = 1000  # bounded memory: beyond this, an album's items are handled one by one


@dataclass
class _Album:
    messages: list[Message]
    last_seen: float
    dropped: int = field(default=0)


class AlbumCollector:
    def __init__(self, window_s: float) -> None:
        self.window_s = max(0.0, window_s)
        self._open: dict[tuple[int, str], _Album] = {}
        self.closed = 0  # albums collected so far (tests wait on it)

    def __len__(self) -> int:
        return len(self._open)

    async def collect(self, message: Message) -> list[Message] | None:
        """`message`'s album in album order once complete; None for an item that joined another's wait."""
        group = message.media_group_id
        if group is None:
            return [message]
        key = (message.chat.id, group)
        now = time.monotonic()
        album = self._open.get(key)
        if album is not None:
            if len(album.messages) < ALBUM_MAX_ITEMS:
                album.messages.append(message)
            else:
                album.dropped += 1
            album.last_seen = now
            return None
        if len(self._open) >= MAX_OPEN_ALBUMS:
            log.warning("too many albums open at once; handling an item of chat %s alone", message.chat.id)
            return [message]
        album = _Album([message], now)
        self._open[key] = album
        deadline = now + self.window_s * MAX_WAIT_WINDOWS
        try:
            while True:
                wait = min(album.last_seen + self.window_s, deadline) - time.monotonic()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        finally:
            self._open.pop(key, None)
            self.closed += 1
        if album.dropped:
            log.warning("album in chat %s had %d items over Telegram's %d; they were not used",
                        message.chat.id, album.dropped, ALBUM_MAX_ITEMS)
        return sorted(album.messages, key=lambda m: m.message_id)
