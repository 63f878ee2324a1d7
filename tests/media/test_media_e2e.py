"""Each reference kind end to end: playground -> real Redis -> arq worker with the tiny models -> media."""

from __future__ import annotations

import io
from typing import Any

import av
import numpy as np
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.media.helpers import gif, mp4, png, result_bytes, wav
from tests.playground import finished, send


def _video(data: bytes) -> tuple[int, float | None, str | None]:
    """(video frames, audio seconds or None, audio codec or None)."""
    with av.open(io.BytesIO(data)) as c:
        has_audio = bool(c.streams.audio)
        frames = sum(1 for _ in c.decode(video=0))
    if not has_audio:
        return frames, None, None
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(audio=0))
        return frames, samples / stream.rate, stream.codec_context.name


async def _run(client: TestClient[Any, Any], chat: str, text: str,
               files: list[tuple[str, bytes]] | None = None) -> tuple[dict[str, Any], bytes, str]:
    sent = await send(client, chat, text, files)
    assert sent["ok"], sent["message"]["text"]
    msg = await finished(client, chat, sent["job_id"])
    data, mime = await result_bytes(client, msg)
    return msg, data, mime


async def test_video_with_several_images_uses_multi_condition(web_client: TestClient[Any, Any],
                                                              worker: Any) -> None:
    msg, data, mime = await _run(web_client, "mImgs", "/video @image1 turns into @image2 --frames 9",
                                 [("a.png", png((200, 0, 0))), ("b.png", png((0, 200, 0)))])
    assert mime == "video/mp4" and _video(data)[0] == 9
    assert "not used" not in msg["text"]  # both images conditioned the clip (frames 0 and 8)
    msg, _data, _mime = await _run(web_client, "mImgs", "/video three stills --frames 9",
                                   [(f"{i}.png", png((60 * i, 0, 0))) for i in range(3)])
    assert "1 reference image(s) were not used: a 9-frame clip has room for 2" in msg["text"]


async def test_image_model_says_extra_images_were_not_used(web_client: TestClient[Any, Any], worker: Any) -> None:
    msg, _data, mime = await _run(web_client, "mImgE", "/imagine a fox like @image2",
                                  [("a.png", png()), ("b.png", png((0, 0, 200)))])
    assert mime == "image/png"
    assert msg["text"].startswith("\U0001f916 AI-generated")  # the label stays first
    assert "extra reference images were not used: the image model supports one" in msg["text"]


async def test_video_reference_restyles_the_clip(web_client: TestClient[Any, Any], worker: Any) -> None:
    msg, data, mime = await _run(web_client, "mV2V", "/video @video1 as a watercolour --frames 9",
                                 [("clip.mp4", mp4(frames=30))])
    assert mime == "video/mp4"
    frames, audio_s, _codec = _video(data)
    assert frames == 9 and audio_s is None
    assert "not used" not in msg["text"]


async def _allow_audio(client: TestClient[Any, Any], chat: str) -> None:
    """Voice consent: a moderator (the playground's user) accepts audio references in this chat."""
    sent = await send(client, chat, "/mod audio on")
    assert sent["ok"], sent


async def test_audio_reference_is_muxed_to_the_clip_length(web_client: TestClient[Any, Any], worker: Any) -> None:
    await _allow_audio(web_client, "mAud")
    _msg, data, mime = await _run(web_client, "mAud", "/video a fox dancing to @audio1 --frames 9",
                                  [("song.wav", wav(2.0))])
    assert mime == "video/mp4"
    frames, audio_s, codec = _video(data)
    assert frames == 9 and codec == "aac"
    assert audio_s is not None and abs(audio_s - 9 / 24) < 0.05


async def test_fit_audio_times_the_clip_to_the_audio(web_client: TestClient[Any, Any], worker: Any) -> None:
    await _allow_audio(web_client, "mFit")
    _msg, data, _mime = await _run(web_client, "mFit", "/animate make it dance --fit-audio",
                                   [("a.png", png()), ("beat.wav", wav(1.0))])
    frames, audio_s, _codec = _video(data)
    assert frames == 17  # 1.0 s at 24 fps, as 8k+1 frames
    assert audio_s is not None and abs(audio_s - 17 / 24) < 0.05


async def test_format_gif_gives_a_gif(web_client: TestClient[Any, Any], worker: Any) -> None:
    _msg, data, mime = await _run(web_client, "mGif", "/video a fox --frames 9 --format gif")
    assert mime == "image/gif"
    img = Image.open(io.BytesIO(data))
    assert img.format == "GIF" and img.n_frames == 9


def _white_share(img: Image.Image, box: tuple[int, int, int, int]) -> float:
    px = np.asarray(img.convert("RGB").crop(box)).reshape(-1, 3)
    return float((px > 230).all(axis=1).mean())


async def test_meme_on_a_replied_image(web_client: TestClient[Any, Any], worker: Any) -> None:
    msg, data, mime = await _run(web_client, "mMeme", "/meme when the tests pass | on the first try",
                                 [("photo.png", png((30, 60, 200), size=(240, 180)))])
    assert mime == "image/png"
    assert msg["text"].startswith("\U0001f916 AI-generated")
    out = Image.open(io.BytesIO(data))
    assert out.size == (240, 180)
    assert _white_share(out, (0, 0, 240, 50)) > 0.05 and _white_share(out, (0, 130, 240, 180)) > 0.05
    assert _white_share(out, (0, 80, 240, 100)) == 0.0


async def test_meme_from_a_prompt(web_client: TestClient[Any, Any], worker: Any, service: Any) -> None:
    _m, plain, _ = await _run(web_client, "mMemeP", "/imagine a cat at a desk --seed 5")
    msg, meme, mime = await _run(web_client, "mMemeP", "/meme a cat at a desk | monday | again --seed 5")
    reroll, vary = (next(b for b in msg["buttons"] if b["label"] == label) for label in ("Reroll", "Variations"))
    rerolled = await (await web_client.post("/api/button", json={"chat": "mMemeP", "data": reroll["data"]})).json()
    varied = await (await web_client.post("/api/button", json={"chat": "mMemeP", "data": vary["data"]})).json()
    # A reroll makes a new captioned picture; a variation starts from the captioned result, so no second caption.
    assert (await service.queue.load_request(rerolled["job_id"])).meme_top == "monday"
    assert (await service.queue.load_request(varied["job_id"])).meme_top == ""
    assert mime == "image/png"
    a = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(io.BytesIO(meme)).convert("RGB")).astype(int)
    diff = np.abs(a - b).sum(axis=2) > 30
    assert diff[:16].mean() > 0.05 and diff[-16:].mean() > 0.05  # top and bottom captions


async def test_meme_on_every_gif_and_video_frame(web_client: TestClient[Any, Any], worker: Any) -> None:
    _m, data, mime = await _run(web_client, "mMemeG", "/meme every | frame", [("loop.gif", gif(frames=4))])
    assert mime == "image/gif"
    img = Image.open(io.BytesIO(data))
    assert img.n_frames == 4
    for i in range(4):
        img.seek(i)
        assert _white_share(img, (0, 0, 96, 25)) > 0.03
    _m, data, mime = await _run(web_client, "mMemeG", "/meme clip | caption", [("clip.mp4", mp4(frames=12))])
    assert mime == "video/mp4" and _video(data)[0] == 12


async def test_reference_limits_through_the_playground(web_client: TestClient[Any, Any], service: Any) -> None:
    sent = await send(web_client, "mLim", "/video too many", [(f"{i}.png", png()) for i in range(10)])
    assert not sent["ok"] and "at most 9" in sent["message"]["text"]
    sent = await send(web_client, "mLim", "/video @audio2 beat", [("a.wav", wav(0.5))])
    assert not sent["ok"] and "@audio2 is not attached" in sent["message"]["text"]
    assert await service.queue.depth() == 0
