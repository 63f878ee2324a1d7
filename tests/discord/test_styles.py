"""/styles and the `style` option on Discord: per server, moderators (Manage Server) add, members list."""

from __future__ import annotations

from typing import Any

from bots.discord.client import ReelsmithBot
from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.discord.fake_discord import GUILD_ID, MANAGE_GUILD, MEMBER_PERMS, FakeDiscord

OTHER_GUILD = GUILD_ID + 1


async def _says(fake: FakeDiscord, token: str, needle: str) -> Any:
    """The answer (public, or the member's private one) once it holds `needle`."""
    async def seen() -> Any:
        original = fake.original(token)
        if original is not None and needle in original.content:
            return original
        return next((m for m in fake.messages.values() if m.via == "followup" and needle in m.content), None)
    return await wait_for(seen, timeout=15)


async def test_styles_per_server_and_the_style_option(fake: FakeDiscord, bot: ReelsmithBot,
                                                      service: Reelsmith) -> None:
    registered = {c["name"]: c for c in fake.registered["global"]}
    assert "styles" in registered
    for name in ("imagine", "video", "edit", "animate"):
        assert "style" in {o["name"] for o in registered[name].get("options", [])}, name
    refused = await fake.slash("styles", {"text": "add noir {prompt}, film noir"})
    await _says(fake, refused, "moderators")
    added = await fake.slash("styles", {"text": "add noir {prompt}, film noir"},
                             permissions=MEMBER_PERMS | MANAGE_GUILD)
    await _says(fake, added, "Added style noir")
    await _says(fake, await fake.slash("styles"), "noir - {prompt}, film noir")
    other = await fake.slash("styles", guild_id=OTHER_GUILD)
    await _says(fake, other, "no styles yet")
    token = await fake.slash("imagine", {"prompt": "a detective", "style": "noir"})
    await _says(fake, token, "Queued")
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.prompt == "a detective, film noir" and request.style == "noir"


async def test_style_option_autocompletes_this_servers_styles(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    from tests.discord.conftest import callback

    async def choices(command: str, current: str = "", **kw: Any) -> list[str]:
        answer = await callback(fake, await fake.autocomplete(command, "style", current, **kw), kind=8)
        return [c["value"] for c in answer["data"]["choices"]]

    registered = {c["name"]: c for c in fake.registered["global"]}
    assert next(o for o in registered["video"]["options"] if o["name"] == "style").get("autocomplete") is True
    assert await choices("imagine") == []
    added = await fake.slash("styles", {"text": "add noir {prompt}, film noir"},
                             permissions=MEMBER_PERMS | MANAGE_GUILD)
    await _says(fake, added, "Added style noir")
    assert await choices("imagine", "NO") == ["noir"] and await choices("animate") == ["noir"]
    assert await choices("imagine", "zebra") == []
    assert await choices("imagine", guild_id=OTHER_GUILD) == []  # another server's styles stay there
