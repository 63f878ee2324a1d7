"""Canvas through the Telegram fake and a real worker: Zoom out 2x under a result (its centre is the source),
and Vary (Region) by replying to a picture with a black and white mask."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bots.telegram.app import TelegramBot
from core.service import button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind
from tests.telegram.conftest import ALICE, GROUP, answer_to, until
from tests.telegram.fake_api import FakeBotAPI


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"badge_enabled": False, "watermark_enabled": False})  # pixels compared


def _diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel: Telegram gets JPEG results (the platform recompresses photos
    anyway), so a kept area matches within JPEG's error, not bit for bit (the playground's PNGs do:
    tests/canvas)."""
    import numpy as np

    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


async def test_zoom_out_button_centres_the_source(api: FakeBotAPI, bot: TelegramBot, worker: Any) -> None:
    api.message(GROUP, ALICE, "/imagine@ReelsmithBot a harbour --seed 2")
    [photo] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    source = Image.open(io.BytesIO(photo.upload("photo"))).convert("RGB")
    job_id = photo.params["caption"].split("job ")[1].split(" ")[0]
    assert button_data("zoom_double", job_id) in photo.callback_data()
    assert button_data("pan_right", job_id) in photo.callback_data()
    api.press(GROUP, ALICE, photo.result, button_data("zoom_double", job_id))
    [_, zoomed_call] = await until(lambda: len(api.sent("sendPhoto")) == 2 and api.sent("sendPhoto"), timeout=90)
    zoomed = Image.open(io.BytesIO(zoomed_call.upload("photo"))).convert("RGB")
    assert zoomed.size == (128, 128)
    assert _diff(zoomed.crop((32, 32, 96, 96)), source) < 6, _diff(zoomed.crop((32, 32, 96, 96)), source)


async def test_reply_with_a_mask_repaints_only_its_white(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                         worker: Any) -> None:
    picture = Image.effect_noise((64, 64), 80).convert("RGB")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 64, 32))  # repaint the top half
    earlier = api.message(ALICE, ALICE, media=api.document(_png(picture), "photo.png", "image/png"))
    command = api.message(ALICE, ALICE, caption="/edit a hot air balloon", reply_to=earlier,
                          media=api.document(_png(mask), "mask.png", "image/png"))
    assert "Queued" in (await answer_to(api, command)).params["text"]
    [result] = await until(lambda: api.sent("sendPhoto"), timeout=90)
    job_id = result.params["caption"].split("job ")[1].split(" ")[0]
    request = await service.queue.load_request(job_id)
    assert request is not None and request.kind == JobKind.INPAINT
    out = Image.open(io.BytesIO(result.upload("photo"))).convert("RGB")
    kept, repainted = (_diff(out.crop(box), picture.crop(box)) for box in ((0, 32, 64, 64), (0, 0, 64, 32)))
    assert kept < 12 < repainted, (kept, repainted)
