"""Spoilers on Discord (issue 20): the `spoiler` option (--spoiler) and a server's default (`/mod spoiler on`) post
the result as a `SPOILER_` attachment; without either it is posted openly; a result the model's safety checker flags
is posted behind a spoiler in an age-restricted channel that allows NSFW. Real worker, fake Discord."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from core.generation.pipeline import GenerationResult, Job, PipelineSet
from tests.discord.conftest import finished
from tests.discord.fake_discord import MANAGE_GUILD, MEMBER_PERMS, FakeDiscord, person
from tests.security.mod_helpers import discord_says

MOD = person(951000000000000001, "Maud")
NSFW_CHANNEL = 7770000000000000042


class Borderline:
    """The tiny pipelines, with the safety checker's verdict forced for prompts that say "borderline" (the tiny
    models' own checker never fires): everything else is the real render."""

    def __init__(self, inner: PipelineSet) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def render(self, jobs: Sequence[Job]) -> list[GenerationResult]:
        return [replace(r, flagged=True) if "borderline" in j.request.prompt else r
                for j, r in zip(jobs, self.inner.render(jobs), strict=True)]

    def generate(self, request: Any, images: Any, progress: Any = None, video: Any = None,
                 should_stop: Any = None) -> GenerationResult:
        return self.render([Job(request, images, video, progress, should_stop)])[0]


@pytest.fixture
def pipelines(pipelines: PipelineSet) -> Borderline:
    return Borderline(pipelines)


async def test_the_spoiler_option_hides_the_result(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    hidden = await finished(fake, await fake.slash("imagine", {"prompt": "a plot twist", "spoiler": True}))
    assert hidden.files and all(name.startswith("SPOILER_") for name, _ in hidden.files), hidden.files
    assert all(a["filename"].startswith("SPOILER_") for a in hidden.payload["attachments"])
    shown = await finished(fake, await fake.slash("imagine", {"prompt": "a plot twist"}))
    assert shown.files and not any(name.startswith("SPOILER_") for name, _ in shown.files), shown.files


async def test_a_server_default_hides_every_result_until_turned_off(fake: FakeDiscord, bot: ReelsmithBot,
                                                                   worker: Any) -> None:
    manager = {"user": MOD, "permissions": MEMBER_PERMS | MANAGE_GUILD}
    on = await discord_says(fake, "mod", "spoiler on", **manager)
    assert "spoiler" in on and not on.startswith("\u26a0"), on
    hidden = await finished(fake, await fake.slash("imagine", {"prompt": "an ending"}))
    assert hidden.files and hidden.files[0][0].startswith("SPOILER_"), hidden.files
    assert "spoiler" in await discord_says(fake, "mod", "status", **manager)

    off = await discord_says(fake, "mod", "spoiler off", **manager)
    assert not off.startswith("\u26a0"), off
    shown = await finished(fake, await fake.slash("imagine", {"prompt": "an ending"}))
    assert shown.files and not shown.files[0][0].startswith("SPOILER_"), shown.files


async def test_a_flagged_result_is_a_spoiler_where_nsfw_is_allowed_and_refused_elsewhere(
        fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    manager = {"user": MOD, "permissions": MEMBER_PERMS | MANAGE_GUILD}
    on = await discord_says(fake, "mod", "nsfw on", channel_id=NSFW_CHANNEL, nsfw=True, **manager)
    assert not on.startswith("\u26a0"), on
    hidden = await finished(fake, await fake.slash("imagine", {"prompt": "a borderline beach"},
                                                   channel_id=NSFW_CHANNEL, nsfw=True))
    assert hidden.files and all(name.startswith("SPOILER_") for name, _ in hidden.files), hidden.files
    shown = await finished(fake, await fake.slash("imagine", {"prompt": "a beach"}, channel_id=NSFW_CHANNEL,
                                                  nsfw=True))
    assert shown.files and not any(name.startswith("SPOILER_") for name, _ in shown.files), shown.files
    refused = await finished(fake, await fake.slash("imagine", {"prompt": "a borderline beach"}))
    assert not refused.files and "safety checker" in refused.content, refused.content
