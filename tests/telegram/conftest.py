"""Fixtures: the fake Bot API server, settings pointing the bot at it, and the real PTB bot running."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr

from bots.telegram.app import TelegramBot
from core.service import Reelsmith
from core.settings import Settings
from tests.conftest import wait_for
from tests.telegram.fake_api import Call, FakeBotAPI

ALICE = 1001  # a member, private chat id == user id
BOB = 1002
GROUP = -100777


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(settings: Settings, api: FakeBotAPI) -> Settings:
    """The shared test settings, plus a bot token and Bot API URLs that point at the fake server."""
    return settings.model_copy(update={
        "telegram_token": SecretStr(api.token),
        "telegram_base_url": api.base_url,
        "telegram_base_file_url": api.base_file_url,
        "telegram_poll_timeout_s": 1,
        "telegram_edit_interval_s": 0.0,
        "telegram_group_edit_interval_s": 0.0,
    })


def make_bot(service: Reelsmith) -> TelegramBot:
    bot = TelegramBot(service)
    bot.consumer.block_ms = 50
    bot.consumer.retry_delay_s = 0.1
    return bot


@pytest.fixture
async def bot(service: Reelsmith) -> AsyncIterator[TelegramBot]:
    b = make_bot(service)
    await b.start()
    yield b
    with contextlib.suppress(Exception):
        await b.stop()


async def until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll a plain (sync) condition with a deadline."""
    async def check() -> Any:
        return predicate()
    return await wait_for(check, timeout=timeout)


async def answer_to(api: FakeBotAPI, message: dict[str, Any], timeout: float = 30.0) -> Call:
    """The bot's first text reply to a member's message."""
    calls = await until(lambda: api.replies_to(message), timeout)
    return calls[0]  # type: ignore[no-any-return]


def png(w: int = 64, h: int = 64, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(w: int = 80, h: int = 60) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 30, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def mp4(frames: int = 9, size: int = 64) -> bytes:
    from core.media import encode_mp4

    return encode_mp4([Image.new("RGB", (size, size), (i * 20 % 255, 80, 120)) for i in range(frames)], fps=8)
