"""A large file that fits the upload limit goes to Discord from the store's file, never whole in memory."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from core.queue.replies import ReplyBus
from core.service.facade import Reelsmith
from core.types import MediaFile, Notice
from tests.conftest import wait_for
from tests.discord.fake_discord import REVIEW_CHANNEL_ID, FakeDiscord, Sent
from tests.streaming import CountingStore, no_whole_reads

LARGE = 30 * 1024 * 1024


async def test_a_large_file_is_sent_in_chunks_from_the_store(fake: FakeDiscord, bot: ReelsmithBot,
                                                              service: Reelsmith,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    service.settings.discord_default_upload_limit = 50 * 1024 * 1024  # a boosted server's limit
    data = os.urandom(LARGE)
    blob_id = await service.blobs.put(data, "video/mp4")
    counting = CountingStore(service.blobs.store)
    service.blobs.store = counting
    media = MediaFile(blob_key=blob_id, mime="video/mp4", filename="reelsmith-big.mp4", size=LARGE, width=64,
                      height=64)
    with no_whole_reads(monkeypatch):
        await ReplyBus(service.redis, service.settings).publish_notice(Notice(
            platform="discord", chat_id=str(REVIEW_CHANNEL_ID), text="Reported result", media=[media]))

        async def posted() -> Sent | None:
            return next((m for m in fake.in_channel(REVIEW_CHANNEL_ID) if m.files), None)

        sent: Any = await wait_for(posted, timeout=60)
    [(name, body)] = sent.files
    assert name == "reelsmith-big.mp4" and len(body) == LARGE
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert counting.reads.opened == [blob_id]
    print(f"discord: largest read {counting.reads.largest} of {LARGE}, {counting.reads.total} read in all")
    assert 0 < counting.reads.largest <= 1024 * 1024, counting.reads
