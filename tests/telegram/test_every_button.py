"""Every button that makes something, pressed under a Telegram result, posts a new result (real PTB, the fake Bot
API, a real worker): the loop works on Telegram whichever button a member presses."""

from __future__ import annotations

from typing import Any

import pytest

from bots.telegram.app import TelegramBot
from core.service import button_data
from core.settings import Settings
from tests.result_buttons_expected import IMAGE_ACTIONS, VIDEO_ACTIONS
from tests.telegram.conftest import ALICE, GROUP, until
from tests.telegram.fake_api import FakeBotAPI

# What only answers the presser (Copy, Edit, Vary (Region)'s how-to) or removes (Delete, Report) is tested apart.
NOT_MAKING = {"report", "copy", "edit", "delete", "region"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"quota_enabled": False})  # fifteen jobs by one member: credits are tested apart
MEDIA = ("sendPhoto", "sendVideo", "sendAnimation", "sendDocument", "sendMediaGroup")


async def _press_each(api: FakeBotAPI, result: Any, job_id: str, actions: tuple[str, ...]) -> list[str]:
    made = []
    for action in actions:
        if action in NOT_MAKING:
            continue
        before = len(api.sent(*MEDIA))
        api.press(GROUP, ALICE, result.result, button_data(action, job_id))
        await until(lambda b=before: len(api.sent(*MEDIA)) > b, timeout=90)
        made.append(action)
    return made


async def test_every_button_under_an_image_and_a_clip(api: FakeBotAPI, bot: TelegramBot, worker: Any) -> None:
    api.message(GROUP, ALICE, "/imagine@ReelsmithBot a harbour --seed 2")
    [photo] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    job_id = photo.params["caption"].split("job ")[1].split(" ")[0]
    assert photo.callback_data() == [button_data(a, job_id) for a in IMAGE_ACTIONS]
    made = await _press_each(api, photo, job_id, IMAGE_ACTIONS)
    assert set(made) >= {"upscale", "vary", "varyx", "reroll", "animate", "zoom_half", "zoom_double", "pan_left",
                         "pan_right", "pan_up", "pan_down"}

    api.message(GROUP, ALICE, "/video@ReelsmithBot a harbour at night --frames 9")
    clip = await until(lambda: next((c for c in api.sent("sendVideo", "sendAnimation")
                                     if "a harbour at night" in c.params.get("caption", "")), None), timeout=90)
    clip_job = clip.params["caption"].split("job ")[1].split(" ")[0]
    assert set(await _press_each(api, clip, clip_job, VIDEO_ACTIONS)) == {"vary", "reroll", "extend"}
