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
from core.labelling.metadata import caption
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, MediaFile
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
    from core.media.codecs import encode_mp4

    return encode_mp4([Image.new("RGB", (size, size), (i * 20 % 255, 80, 120)) for i in range(frames)], fps=8)


async def queue_job(api: FakeBotAPI, service: Reelsmith, text: str = "/imagine a red fox",
                 chat: int = ALICE) -> tuple[dict[str, Any], Call, GenerationRequest]:
    msg = api.message(chat, ALICE, text)
    status = await answer_to(api, msg)
    assert "Queued" in status.params["text"]
    job_id = next(j.decode() for j in reversed(await service.redis.zrange(service.settings.queue_name, 0, -1)))
    request = await service.queue.load_request(job_id)
    assert request is not None
    return msg, status, request


def noise_png(size: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((size, size), 90).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


async def reply_for(service: Reelsmith, request: GenerationRequest, data: bytes, mime: str,
                     **extra: Any) -> GenerationReply:
    blob = await service.blobs.put(data, mime)
    ext = "png" if mime == "image/png" else "mp4"
    media = MediaFile(blob_key=blob, mime=mime, filename=f"reelsmith-{request.job_id}.{ext}", size=len(data),
                      width=64, height=64, duration_s=1.0 if ext == "mp4" else None)
    return GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                           prompt=request.prompt, seed=request.seed, media=[media], model="tiny",
                           caption=caption(label_text="AI-generated", service="Reelsmith", model="tiny",
                                           job_id=request.job_id, seed=request.seed, prompt=request.prompt),
                           **extra)


async def drained(service: Reelsmith) -> None:
    stream = service.settings.key("replies", "telegram")

    async def empty() -> bool:
        return int(await service.redis.xlen(stream)) == 0
    await wait_for(empty)
