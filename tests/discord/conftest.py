"""Fixtures: a fake Discord on 127.0.0.1 and the real discord.py bot connected to it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr

from bots.discord.client import ReelsmithBot
from bots.discord.run import RunningBot, start
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import wait_for
from tests.discord.fake_discord import FakeDiscord

Starter = Callable[[], Awaitable[ReelsmithBot]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings: Settings, fake: FakeDiscord) -> Settings:
    """The shared test settings, pointed at the fake Discord."""
    settings.discord_token = SecretStr("test-bot-token")
    settings.discord_api_base = fake.api_base
    settings.discord_attachment_hosts = ["127.0.0.1"]
    settings.discord_edit_interval_s = 0.0
    return settings


@pytest.fixture
async def start_bot(service: Reelsmith, fake: FakeDiscord) -> AsyncIterator[Starter]:
    """Start (or restart) the bot through `bots.discord.run.start`, exactly as `reelsmith run` does."""
    running: list[RunningBot] = []

    async def starter() -> ReelsmithBot:
        if running:
            await running.pop().stop()
        fake.connected.clear()
        started = await start(service, consumer_name="discord-test", ready_timeout_s=20,
                              guild_ready_timeout=0.05)  # the fake sends its one guild at once
        bot = started.bot
        bot.consumer.block_ms = 50
        bot.consumer.retry_delay_s = 0.1
        running.append(started)
        return bot

    yield starter
    for started in running:
        await started.stop()


@pytest.fixture
async def bot(start_bot: Starter) -> ReelsmithBot:
    return await start_bot()


def png(size: tuple[int, int] = (80, 60), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


async def finished(fake: FakeDiscord, token: str, timeout: float = 60) -> Any:
    """The job's status message once it carries a result (a file, or a warning)."""
    async def done() -> Any:
        msg = fake.original(token)
        if msg is not None and (msg.files or msg.content.startswith("\u26a0")):
            return msg
        return None

    return await wait_for(done, timeout=timeout)


async def callback(fake: FakeDiscord, token: str, kind: int | None = None) -> dict[str, Any]:
    async def seen() -> dict[str, Any] | None:
        return next((c for c in fake.callbacks if c["token"] == token and kind in (None, c["type"])), None)

    return dict(await wait_for(seen, timeout=10))


def job_id_of(content: str) -> str:
    """The job id from a result caption (`... · job <id> · ...`)."""
    return content.split("job ", 1)[1].split(" ", 1)[0]


async def private_answer(fake: FakeDiscord, token: str) -> Any:
    """The ephemeral answer to an interaction: a follow-up, or the edited ephemeral original."""
    async def seen() -> Any:
        original = fake.original(token)
        if original is not None and original.ephemeral and original.history:
            return original
        for m in fake.messages.values():
            if m.via == "followup" and m.ephemeral and original is not None and \
                    m.payload["channel_id"] == original.payload["channel_id"] and m.id > original.id:
                return m
        return None

    return await wait_for(seen, timeout=15)


@pytest.fixture
async def start_worker(settings: Settings, pipelines: Any) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A real worker started when the test says so (to change things while a job waits in the queue)."""
    import asyncio
    import contextlib

    from workers.settings import build_worker

    workers: list[tuple[Any, asyncio.Task[Any]]] = []

    async def starter() -> None:
        w = build_worker(settings, warm=False, pipelines=pipelines, handle_signals=False)
        workers.append((w, asyncio.create_task(w.async_run())))

    yield starter
    for w, task in workers:
        await w.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
