"""On/off switches: the owners' global kill switch, per-scope pause and options, per-channel enable and NSFW.

A scope is where a chat's moderators rule (`Requester.scope`: a Telegram chat, a Discord server); channel
switches are per channel inside it.
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.i18n import N_
from core.queue.connection import as_text
from core.settings import Settings

# Per-scope flags (a hash per chat/server): name -> what "on" means (translated where shown).
CHAT_FLAGS = {
    "paused": N_("generation is paused"),
    "protected_off": N_("the protected-names list is off (owner's decision)"),
    "audio_refs": N_("voice/audio references are allowed without a verified avatar"),
    "spoiler": N_("results are posted behind a spoiler by default"),
}
# Per-channel flags (a hash per channel).
CHANNEL_FLAGS = {
    "disabled": N_("generation is disabled in this channel"),
    "nsfw": N_("age-restricted prompts are allowed in this channel"),
}


class Switches:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def _kill_key(self) -> str:
        return self.settings.key("mod", "kill")

    def _chat_key(self, platform: str, scope: str) -> str:
        return self.settings.key("mod", "chat", platform, scope)

    def _channel_key(self, platform: str, scope: str, channel: str) -> str:
        return self.settings.key("mod", "channel", platform, scope, channel or "-")

    async def set_kill(self, on: bool) -> None:
        if on:
            await self.redis.set(self._kill_key(), "1")
        else:
            await self.redis.delete(self._kill_key())

    async def killed(self) -> bool:
        return bool(await self.redis.exists(self._kill_key()))

    async def set_chat(self, platform: str, scope: str, flag: str, on: bool) -> None:
        assert flag in CHAT_FLAGS, flag
        if on:
            await self.redis.hset(self._chat_key(platform, scope), flag, "1")
        else:
            await self.redis.hdel(self._chat_key(platform, scope), flag)

    async def chat(self, platform: str, scope: str) -> set[str]:
        """The chat's flags that are on."""
        raw = await self.redis.hkeys(self._chat_key(platform, scope))
        return {as_text(r) for r in raw}

    async def set_channel(self, platform: str, scope: str, channel: str, flag: str, on: bool) -> None:
        assert flag in CHANNEL_FLAGS, flag
        if on:
            await self.redis.hset(self._channel_key(platform, scope, channel), flag, "1")
        else:
            await self.redis.hdel(self._channel_key(platform, scope, channel), flag)

    async def channel(self, platform: str, scope: str, channel: str) -> set[str]:
        raw = await self.redis.hkeys(self._channel_key(platform, scope, channel))
        return {as_text(r) for r in raw}
