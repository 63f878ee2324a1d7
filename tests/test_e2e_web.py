"""End to end: HTTP command -> real Redis -> real arq worker with tiny models -> labelled media."""

from __future__ import annotations

import io
from typing import Any

import av
from aiohttp.test_utils import TestClient
from PIL import Image

from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from tests.playground import finished, send


async def test_imagine_returns_labelled_png(web_client: TestClient[Any, Any], worker: Any) -> None:
    sent = await send(web_client, "chatA", "/imagine a red fox --ar 16:9 --seed 7")
    assert sent["ok"], sent
    assert "Queued (position" in sent["message"]["text"]
    msg = await finished(web_client, "chatA", sent["job_id"])
    assert not msg["error"], msg["text"]
    assert msg["text"].startswith("\U0001f916 AI-generated with Reelsmith")
    assert sent["job_id"] in msg["text"] and "seed 7" in msg["text"]
    [media] = msg["media"]
    assert media["mime"] == "image/png"
    resp = await web_client.get(media["url"])
    assert resp.status == 200 and resp.content_type == "image/png"
    data = await resp.read()
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (64, 32)  # 16:9 at the tiny 64 px long side
    xmp = img.info.get("XML:com.adobe.xmp", "")
    assert DIGITAL_SOURCE_TYPE in xmp and sent["job_id"] in xmp


async def test_video_returns_playable_h264_mp4(web_client: TestClient[Any, Any], worker: Any) -> None:
    sent = await send(web_client, "chatV", "/video a red fox running --frames 9")
    assert sent["ok"], sent
    msg = await finished(web_client, "chatV", sent["job_id"])
    assert not msg["error"], msg["text"]
    [media] = msg["media"]
    assert media["mime"] == "video/mp4"
    data = await (await web_client.get(media["url"])).read()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        tags = dict(container.metadata)
    assert len(frames) == 9
    assert frames[0].shape == (64, 64, 3)
    assert tags.get("DigitalSourceType") == DIGITAL_SOURCE_TYPE
    assert sent["job_id"] in tags.get("AIGC", "")


async def test_edit_uses_attached_image(web_client: TestClient[Any, Any], worker: Any) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(buf, format="JPEG")
    sent = await send(web_client, "chatE", "/edit make it snowy",
                       [("photo.jpg", buf.getvalue(), "image/jpeg")])
    assert sent["ok"], sent
    msg = await finished(web_client, "chatE", sent["job_id"])
    assert not msg["error"], msg["text"]
    assert msg["media"][0]["mime"] == "image/png"


async def test_animate_uses_attached_image(web_client: TestClient[Any, Any], worker: Any) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 200, 30)).save(buf, format="PNG")
    sent = await send(web_client, "chatAn", "/animate make it dance", [("a.png", buf.getvalue(), "image/png")])
    assert sent["ok"], sent
    msg = await finished(web_client, "chatAn", sent["job_id"])
    assert msg["media"][0]["mime"] == "video/mp4", msg["text"]


async def test_bad_input_is_answered_and_queues_nothing(web_client: TestClient[Any, Any], service: Any) -> None:
    for text, expected in [
        ("/imagine", "needs a prompt"),
        ("/imagine fox --ar banana", "--ar must look like"),
        ("/imagine fox --wings 3", "Unknown flag --wings"),
        ("/edit make it snowy", "needs an image"),
    ]:
        sent = await send(web_client, "chatBad", text)
        assert not sent["ok"] and sent["job_id"] is None
        assert expected in sent["message"]["text"], (text, sent["message"]["text"])
    sent = await send(web_client, "chatBad", "/edit fox", [("x.png", b"not really a png", "image/png")])
    assert not sent["ok"] and "not a supported" in sent["message"]["text"]
    assert await service.queue.depth() == 0


async def test_help_and_page(web_client: TestClient[Any, Any]) -> None:
    sent = await send(web_client, "chatH", "/help")
    assert sent["ok"] and "/imagine" in sent["message"]["text"]
    page = await web_client.get("/")
    assert page.status == 200 and "Reelsmith" in await page.text()
    health = await web_client.get("/healthz")
    assert health.status == 200


async def test_result_buttons_work_from_the_page(web_client: TestClient[Any, Any], worker: Any) -> None:
    sent = await send(web_client, "chatB", "/imagine a fox")
    msg = await finished(web_client, "chatB", sent["job_id"])
    labels = [b["label"] for b in msg["buttons"]]
    assert labels[:4] == ["Reroll", "Variations", "Animate", "Report"]
    assert labels[4:] == ["Zoom out 1.5x", "Zoom out 2x", "Vary (Region)", "\u2b05", "\u27a1", "\u2b06", "\u2b07"]
    animate = next(b for b in msg["buttons"] if b["label"] == "Animate")
    resp = await web_client.post("/api/button", json={"chat": "chatB", "data": animate["data"]})
    out = await resp.json()
    assert out["ok"], out
    done = await finished(web_client, "chatB", out["job_id"])
    assert done["media"][0]["mime"] == "video/mp4"
