"""Helpers for the moderation-scope tests: settings pointed at the fakes, and talking to the real bots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from core.settings import Settings
from tests.conftest import wait_for
from tests.discord.fake_discord import FakeDiscord
from tests.telegram.conftest import answer_to
from tests.telegram.fake_api import Call, FakeBotAPI

FACE = (Path(__file__).parent.parent / "moderation" / "data" / "face.jpg").read_bytes()


def for_telegram(base: Settings, api: FakeBotAPI, **changes: Any) -> Settings:
    """The shared test settings pointed at the fake Bot API (as tests/telegram/conftest.py does), plus changes."""
    return base.model_copy(update={
        "telegram_token": SecretStr(api.token), "telegram_base_url": api.base_url,
        "telegram_base_file_url": api.base_file_url, "telegram_poll_timeout_s": 1,
        "telegram_edit_interval_s": 0.0, "telegram_group_edit_interval_s": 0.0, **changes})


def for_discord(base: Settings, fake: FakeDiscord, **changes: Any) -> Settings:
    """The shared test settings pointed at the fake Discord (as tests/discord/conftest.py does), plus changes."""
    return base.model_copy(update={
        "discord_token": SecretStr("test-bot-token"), "discord_api_base": fake.api_base,
        "discord_attachment_hosts": ["127.0.0.1"], "discord_edit_interval_s": 0.0, **changes})


async def say(api: FakeBotAPI, chat: int, user: int, text: str, **kw: Any) -> str:
    """Send a message to the Telegram bot as `user` in `chat`; the bot's text answer."""
    call = await answer_to(api, api.message(chat, user, text, **kw))
    return str(call.params["text"])


async def say_with_photo(api: FakeBotAPI, chat: int, user: int, caption: str, data: bytes = FACE) -> str:
    """A photo captioned with a command (how Telegram members attach a reference)."""
    call = await answer_to(api, api.message(chat, user, caption=caption, media=api.photo(data)))
    return str(call.params["text"])


async def toast(api: FakeBotAPI, before: int) -> str:
    """The text of the first button answer (answerCallbackQuery) after the first `before` ones."""
    async def seen() -> Call | None:
        calls = [c for c in api.sent("answerCallbackQuery") if c.params.get("text")]
        return calls[before] if len(calls) > before else None

    call: Call = await wait_for(seen, timeout=30)
    return str(call.params["text"])


async def discord_says(fake: FakeDiscord, command: str, text: str, **kw: Any) -> str:
    """Run `/command text:<text>` (`/imagine prompt:<text>`) on the Discord bot; its answer, public ("Queued")
    or private (refusals, moderator answers)."""
    option = "prompt" if command in ("imagine", "video") else "text"
    token = await fake.slash(command, {option: text}, **kw)

    async def answered() -> str | None:
        original = fake.original(token)
        if original is not None and original.history and not original.ephemeral:
            return original.content
        for m in fake.messages.values():
            if m.via == "followup" and m.ephemeral and original is not None and m.id > original.id and \
                    m.payload["channel_id"] == original.payload["channel_id"]:
                return m.content
        if original is not None and original.ephemeral and original.history:
            return original.content
        return None

    return str(await wait_for(answered, timeout=20))
