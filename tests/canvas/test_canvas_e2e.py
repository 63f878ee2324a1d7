"""Zoom out, Pan and Vary (Region) through the playground and a real worker on the tiny SD: checked by pixels
(a zoom-out's centre is the source), by size, and by what the quota charged (new pixels, once per press)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from core.context import ChatContext
from core.contract import button_data
from core.quotas.book import QuotaBook
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import JobKind, Requester
from tests.playground import finished, send

COST_PIXELS = 1024  # one credit per 1024 px, so the price tells new pixels from the whole canvas


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No badge or watermark (they would change the pixels compared); small pixel units for the price."""
    return settings.model_copy(update={"badge_enabled": False, "watermark_enabled": False,
                                       "quota_cost_pixels": COST_PIXELS, "quota_credits": 1000})


async def _image(client: TestClient[Any, Any], msg: dict[str, Any]) -> Image.Image:
    resp = await client.get(msg["media"][0]["url"])
    return Image.open(io.BytesIO(await resp.read())).convert("RGB")


async def _result(client: TestClient[Any, Any], chat: str, text: str) -> tuple[dict[str, Any], Image.Image]:
    sent = await send(client, chat, text)
    assert sent["ok"], sent
    msg = await finished(client, chat, sent["job_id"])
    assert not msg["error"], msg["text"]
    return msg, await _image(client, msg)


async def _press(client: TestClient[Any, Any], chat: str, msg: dict[str, Any], label: str) -> dict[str, Any]:
    button = next(b for b in msg["buttons"] if b["label"] == label)
    resp = await client.post("/api/button", json={"chat": chat, "data": button["data"]})
    return dict(await resp.json())


async def _used(service: Reelsmith, chat: str) -> int:
    return (await QuotaBook(service.redis, service.settings).usage("web", chat)).used


async def test_zoom_out_2x_keeps_the_source_as_its_centre(web_client: TestClient[Any, Any], service: Reelsmith,
                                                          worker: Any) -> None:
    msg, source = await _result(web_client, "zoom", "/imagine a lighthouse --seed 3")
    assert source.size == (64, 64)
    labels = [b["label"] for b in msg["buttons"]]
    assert {"Zoom out 1.5x", "Zoom out 2x", "Vary (Region)", "\u2b05", "\u27a1", "\u2b06", "\u2b07"} <= set(labels)
    before = await _used(service, "zoom")
    out = await _press(web_client, "zoom", msg, "Zoom out 2x")
    assert out["ok"], out
    done = await finished(web_client, "zoom", out["job_id"])
    assert not done["error"], done["text"]
    zoomed = await _image(web_client, done)
    assert zoomed.size == (128, 128)
    assert zoomed.crop((32, 32, 96, 96)).tobytes() == source.tobytes()  # the centre, pixel for pixel
    assert zoomed.crop((0, 0, 32, 128)).tobytes() != Image.new("RGB", (32, 128), (127, 127, 127)).tobytes()
    assert out["job_id"] in done["text"]  # the caption names the new job
    # Priced by its new pixels only: 128² - 64² = 12 units of 1024 px (the whole canvas would be 16).
    assert await _used(service, "zoom") - before == (128 * 128 - 64 * 64) // COST_PIXELS


async def test_pan_right_extends_the_width(web_client: TestClient[Any, Any], worker: Any) -> None:
    msg, source = await _result(web_client, "pan", "/imagine a road --ar 16:9 --seed 4")
    assert source.size == (64, 32)
    out = await _press(web_client, "pan", msg, "\u27a1")
    assert out["ok"], out
    done = await finished(web_client, "pan", out["job_id"])
    panned = await _image(web_client, done)
    assert panned.size == (96, 32)
    assert panned.crop((0, 0, 64, 32)).tobytes() == source.tobytes()  # the source stays on the left


async def test_a_triple_press_queues_and_charges_once(service: Reelsmith, worker: Any) -> None:
    alice = Requester(platform="web", user_id="alice", chat_id="alice")
    first = await service.handle(alice, "/imagine a fox")
    assert first.job_id
    from tests.conftest import wait_for

    await wait_for(lambda: service.queue.load_reply(first.job_id or ""), timeout=60)
    before = await QuotaBook(service.redis, service.settings).usage("web", "alice")
    presses = [await service.action(alice, ChatContext(), button_data("zoom_half", first.job_id)) for _ in range(3)]
    assert [p.ok for p in presses] == [True, False, False]
    assert "Already on it" in presses[1].text
    queued = presses[0].request
    assert queued is not None and queued.kind == JobKind.INPAINT and (queued.width, queued.height) == (96, 96)
    after = await QuotaBook(service.redis, service.settings).usage("web", "alice")
    assert after.used - before.used == -(-(96 * 96 - 64 * 64) // COST_PIXELS)  # once, for the new pixels


async def test_vary_region_repaints_only_the_white_of_the_mask(web_client: TestClient[Any, Any],
                                                              service: Reelsmith, worker: Any) -> None:
    source = Image.effect_noise((64, 64), 80).convert("RGB")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 0, 64, 64))  # repaint the right half
    files = []
    for name, image in (("photo.png", source), ("mask.png", mask)):
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        files.append((name, buf.getvalue()))
    sent = await send(web_client, "region", "/edit a red door", files)
    assert sent["ok"], sent
    done = await finished(web_client, "region", sent["job_id"])
    assert not done["error"], done["text"]
    out = await _image(web_client, done)
    assert out.size == (64, 64)
    assert out.crop((0, 0, 32, 64)).tobytes() == source.crop((0, 0, 32, 64)).tobytes()  # black: kept exactly
    assert out.crop((32, 0, 64, 64)).tobytes() != source.crop((32, 0, 64, 64)).tobytes()
    request = await service.queue.load_request(sent["job_id"])
    assert request is not None and request.kind == JobKind.INPAINT and request.billed_pixels == 32 * 64


async def test_vary_region_button_says_how_to_send_a_mask(web_client: TestClient[Any, Any], worker: Any) -> None:
    msg, _ = await _result(web_client, "help", "/imagine a cat")
    out = await _press(web_client, "help", msg, "Vary (Region)")
    assert out["ok"] and "black and white mask" in out["message"]["text"]


async def test_no_inpaint_model_is_refused_before_anything_is_charged(settings: Settings, tmp_path: Any) -> None:
    from core.queue.connection import connect
    from core.service.features import build_service

    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "plain"\nsource = "twin:sd"\nfamily = "sd"\n'
                      'tasks = ["text-to-image", "image-to-image"]\n')
    redis = await connect(settings)
    try:
        service = build_service(settings.model_copy(update={"models_file": models}), redis)
        mask = Image.new("L", (64, 64), 0)
        mask.paste(255, (0, 0, 32, 64))
        files = []
        for image in (Image.effect_noise((64, 64), 80).convert("RGB"), mask):
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            files.append(buf.getvalue())
        from core.contract import Attachment

        alice = Requester(platform="web", user_id="nomodel", chat_id="nomodel")
        out = await service.handle(alice, "/edit a door", [Attachment(f, f"{i}.png") for i, f in enumerate(files)])
        assert not out.ok and "can't repaint part of a picture" in out.text and "an owner can add" in out.text
        assert await service.queue.depth() == 0 and await _used(service, "nomodel") == 0
    finally:
        await redis.aclose()
