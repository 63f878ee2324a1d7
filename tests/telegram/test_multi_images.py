"""--n 4 on Telegram: one album (sendMediaGroup), each photo labelled with its own caption, then one keyboard
message with U1..U4 / V1..V4 / S1..S4; U2 upscales image 2 to exactly twice its size; V3 varies image 3."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bots.telegram.app import TelegramBot
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.service import button_data, image_ref
from core.service.facade import Reelsmith
from core.types import JobKind
from tests.telegram.conftest import ALICE, GROUP, answer_to, until
from tests.telegram.fake_api import FakeBotAPI


async def test_four_images_as_an_album_then_upscale_and_vary(api: FakeBotAPI, bot: TelegramBot,
                                                             service: Reelsmith, worker: Any) -> None:
    msg = api.message(GROUP, ALICE, "/imagine a red fox --seed 7 --n 4")
    assert "Queued" in (await answer_to(api, msg)).params["text"]
    [album] = await until(lambda: api.sent("sendMediaGroup"), timeout=90)
    items = album.album()
    assert len(items) == 4 and "reply_markup" not in album.params
    job_id = ""
    for i, (data, item) in enumerate(items, start=1):
        image = Image.open(io.BytesIO(data))
        # Telegram gets JPEG results, its XMP in the APP1 segment.
        assert image.size == (64, 64) and DIGITAL_SOURCE_TYPE.encode() in image.info.get("xmp", b"")
        assert item["caption"].startswith("\U0001f916 AI-generated with Reelsmith")
        assert item["caption"].endswith(f"image {i} of 4, seed {7 + i - 1}")
        job_id = item["caption"].split("job ")[1].split(" ")[0]
    # Different seeds, different pictures.
    assert len({data for data, _ in items}) == 4
    # The keyboard message after the album (the status message's own keyboard is its Cancel button).
    [keys] = await until(lambda: [c for c in api.sent("sendMessage") if c.json("reply_markup")
                                  and any(d.startswith("rs:upscale:") for d in c.callback_data())], timeout=30)
    data = keys.callback_data()
    for action in ("upscale", "vary", "varyx"):
        assert [button_data(action, image_ref(job_id, i)) for i in range(1, 5)] == [d for d in data
                                                                                  if d.startswith(f"rs:{action}:")]
    assert all(len(d.encode()) <= 64 for d in data)

    # U2: image 2, 2x larger, through the upscale task.
    source = Image.open(io.BytesIO(items[1][0]))
    api.press(GROUP, ALICE, keys.result, button_data("upscale", image_ref(job_id, 2)))
    [big] = await until(lambda: api.sent("sendPhoto"), timeout=120)
    assert Image.open(io.BytesIO(big.upload("photo"))).size == (source.width * 2, source.height * 2)
    up_job = big.params["caption"].split("job ")[1].split(" ")[0]
    up = await service.queue.load_request(up_job)
    assert up is not None and up.kind == JobKind.UPSCALE and up.n_images == 1
    [second_reply] = [r for r in (await service.queue.load_reply(job_id),) if r is not None]
    assert up.references[0].blob_key == second_reply.media[1].blob_key

    # V3: image-to-image from image 3, the subtle strength.
    api.press(GROUP, ALICE, keys.result, button_data("vary", image_ref(job_id, 3)))
    photos = await until(lambda: api.sent("sendPhoto")[1:], timeout=120)
    vary_job = photos[0].params["caption"].split("job ")[1].split(" ")[0]
    varied = await service.queue.load_request(vary_job)
    assert varied is not None and varied.kind == JobKind.EDIT and varied.strength == 0.35
    assert varied.references[0].blob_key == second_reply.media[2].blob_key
