"""Every button that makes something, pressed under a Discord result, posts a new result (real discord.py, the
fake Discord, a real worker): the loop works on Discord whichever button a member presses."""

from __future__ import annotations

from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from core.service import button_data
from core.settings import Settings
from tests.discord.conftest import finished, job_id_of
from tests.discord.fake_discord import FakeDiscord
from tests.result_buttons_expected import IMAGE_ACTIONS, VIDEO_ACTIONS

# What only answers the presser (Copy, Edit, Vary (Region)'s how-to) or removes (Delete, Report) is tested apart.
NOT_MAKING = {"report", "copy", "edit", "delete", "region"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"quota_enabled": False})  # fifteen jobs by one member: credits are tested apart


async def _press_each(fake: FakeDiscord, msg: Any, job_id: str, actions: tuple[str, ...]) -> list[str]:
    made = []
    for action in actions:
        if action in NOT_MAKING:
            continue
        result = await finished(fake, await fake.press(msg, button_data(action, job_id)), timeout=90)
        assert result.files, (action, result.content)
        made.append(action)
    return made


async def test_every_button_under_an_image_and_a_clip(fake: FakeDiscord, bot: ReelsmithBot, worker: Any) -> None:
    msg = await finished(fake, await fake.slash("imagine", {"prompt": "a harbour", "seed": 2}))
    job_id = job_id_of(msg.content)
    assert msg.custom_ids == [button_data(a, job_id) for a in IMAGE_ACTIONS]
    made = await _press_each(fake, msg, job_id, IMAGE_ACTIONS)
    assert set(made) >= {"upscale", "vary", "varyx", "reroll", "animate", "zoom_half", "zoom_double", "pan_left",
                         "pan_right", "pan_up", "pan_down"}

    clip = await finished(fake, await fake.slash("video", {"prompt": "a harbour at night", "frames": 9}))
    assert set(await _press_each(fake, clip, job_id_of(clip.content), VIDEO_ACTIONS)) == {"vary", "reroll", "extend"}
