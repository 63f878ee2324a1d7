# ruff: noqa: F811
# (test parameters are named after the adapter fixtures imported below)
"""Redis is a trust boundary: Discord interaction tokens are not stored in plain text, and the bot uses only
tokens it sealed itself for that job.

Driven through the Discord fake with the real discord.py bot and a real worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bots.discord.client import ReelsmithBot
from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.discord.conftest import (  # noqa: F401
    bot,
    fake,
    finished,
    settings,
    start_bot,
    start_worker,
)
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord

StartWorker = Callable[[], Awaitable[None]]


async def _queue(fake: FakeDiscord, service: Reelsmith, prompt: str) -> tuple[str, str]:
    """Run /imagine; returns (interaction token, job id) once the member sees "Queued"."""
    before = set(await service.redis.zrange(service.settings.queue_name, 0, -1))
    token = await fake.slash("imagine", {"prompt": prompt})

    async def queued() -> bool:
        original = fake.original(token)
        return original is not None and "Queued" in original.content
    await wait_for(queued, timeout=15)
    [job_id] = set(await service.redis.zrange(service.settings.queue_name, 0, -1)) - before
    return token, job_id.decode()


def _token_key(service: Reelsmith, job_id: str) -> str:
    return service.settings.key("discord", "itoken", job_id)


async def test_interaction_token_is_sealed_in_redis_and_still_edits_the_original(
        fake: FakeDiscord, bot: ReelsmithBot, start_worker: StartWorker, service: Reelsmith) -> None:
    token, job_id = await _queue(fake, service, "a lighthouse")
    stored = await service.redis.get(_token_key(service, job_id))
    assert stored is not None and token.encode() not in stored
    assert 0 < await service.redis.ttl(_token_key(service, job_id)) <= service.settings.discord_token_ttl_s
    for key in await service.redis.keys("*"):  # nowhere else either, in any encoding Redis keeps
        assert token.encode() not in (await service.redis.dump(key) or b""), key

    await start_worker()
    msg = await finished(fake, token)  # the original "Queued" message now carries the result
    assert msg.files and "AI-generated" in msg.content and job_id in msg.content
    assert (await bot.delivery.state.delivered(job_id) or {}).get("via") == "interaction"


async def _flipped(service: Reelsmith, job: str, _token_a: str, _sealed_a: bytes) -> None:
    sealed = await service.redis.get(_token_key(service, job))
    await service.redis.set(_token_key(service, job), sealed[:-1] + bytes([sealed[-1] ^ 1]), keepttl=True)


async def _planted(service: Reelsmith, job: str, token_a: str, _sealed_a: bytes) -> None:
    # A live token of another interaction, in plain text as the bot once stored them.
    await service.redis.set(_token_key(service, job), token_a, keepttl=True)


async def _swapped(service: Reelsmith, job: str, _token_a: str, sealed_a: bytes) -> None:
    await service.redis.set(_token_key(service, job), sealed_a, keepttl=True)  # another job's stored value


@pytest.mark.parametrize("tamper", [_flipped, _planted, _swapped], ids=["flipped", "planted", "swapped"])
async def test_tampered_or_planted_tokens_are_refused_and_the_result_goes_to_the_channel(
        fake: FakeDiscord, bot: ReelsmithBot, start_worker: StartWorker, service: Reelsmith,
        tamper: Callable[[Reelsmith, str, str, bytes], Awaitable[None]]) -> None:
    token_a, job_a = await _queue(fake, service, "control")
    token_b, job_b = await _queue(fake, service, "tampered")
    sealed_a = await service.redis.get(_token_key(service, job_a))
    assert sealed_a is not None
    await tamper(service, job_b, token_a, sealed_a)  # what an attacker who can write Redis does

    await start_worker()
    refs = {job: await wait_for(lambda job=job: bot.delivery.state.delivered(job), timeout=60)
            for job in (job_a, job_b)}
    assert refs[job_a]["via"] == "interaction"
    assert refs[job_b]["via"] == "channel", refs[job_b]
    posted = [m for m in fake.in_channel(CHANNEL_ID) if m.via == "channel" and m.files and job_b in m.content]
    assert len(posted) == 1 and "AI-generated" in posted[0].content
    assert not await service.redis.exists(_token_key(service, job_b))  # the bad value is dropped
    original_b = fake.original(token_b)
    assert original_b is not None and not original_b.files
    # Job A's token served job A's message only.
    original_a = fake.original(token_a)
    assert original_a is not None and job_a in original_a.content
    assert [m for m in fake.messages.values() if m.files and m.via == "interaction"] == [original_a]
