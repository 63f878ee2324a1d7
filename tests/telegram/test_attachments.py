"""Attachments: each media kind in the same message, reply-to-media, oversized and corrupt files, no secrets leak."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from bots.telegram.app import TelegramBot
from core.context import ChatContext
from core.service.facade import Reelsmith
from core.types import GenerationRequest, MediaType, Requester
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to, jpeg, mp4, png
from tests.telegram.fake_api import FakeBotAPI


def _audio(fmt: str, codec: str) -> bytes:
    """A real, decodable one-second tone (core probes audio references)."""
    import io

    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=48000)
        frame = av.AudioFrame.from_ndarray(
            (np.sin(np.arange(48000) * 0.05) * 10000).astype("<i2")[None, :], format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return buf.getvalue()


MP3 = _audio("mp3", "libmp3lame")
OGG = _audio("ogg", "libopus")


async def _only_job(service: Reelsmith) -> GenerationRequest:
    [job_id] = [j.decode() for j in await service.redis.zrange(service.settings.queue_name, 0, -1)]
    request = await service.queue.load_request(job_id)
    assert request is not None
    return request


MediaMaker = Callable[[FakeBotAPI], tuple[dict[str, Any], bytes]]

KINDS: dict[str, tuple[str, MediaMaker, MediaType, str]] = {
    # name: (command, media payload + the bytes the job must get, stored type, sniffed mime)
    "photo": ("/edit make it snowy", lambda a: (a.photo(jpeg(800, 600)), jpeg(800, 600)), MediaType.IMAGE,
              "image/jpeg"),
    "image as document": ("/edit make it snowy",
                          lambda a: (a.document(png(), "fox.png", "image/png"), png()), MediaType.IMAGE,
                          "image/png"),
    "video": ("/animate make it dance", lambda a: (a.video(CLIP), CLIP), MediaType.VIDEO, "video/mp4"),
    "animation": ("/animate make it dance", lambda a: (a.animation(CLIP), CLIP), MediaType.VIDEO, "video/mp4"),
    "audio file": ("/video a dancing fox", lambda a: (a.audio(MP3), MP3), MediaType.AUDIO, "audio/mpeg"),
    "voice note": ("/video a singing fox", lambda a: (a.voice(OGG), OGG), MediaType.AUDIO, "audio/ogg"),
}
CLIP = mp4()


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_attachment_kind_in_the_same_message(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                        kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    command, make, media_type, mime = KINDS[kind]
    if media_type == MediaType.AUDIO:
        # Voice consent: audio references need a verified avatar or the chat's moderator switch.
        moderator = Requester(platform="telegram", user_id=str(ALICE), chat_id=str(ALICE))
        assert (await service.handle(moderator, "/mod audio on", ctx=ChatContext(is_moderator=True))).ok
    media, data = make(api)
    msg = api.message(ALICE, ALICE, caption=command, media=media)
    answer = await answer_to(api, msg)
    assert "Queued" in answer.params["text"], answer.params["text"]
    request = await _only_job(service)
    [ref] = request.references
    assert ref.media_type == media_type and ref.mime == mime
    blob = await service.media(ref.blob_key)
    assert blob is not None and blob[0] == data  # for photos: the largest size, not the thumbnail
    # Jobs carry blob ids only; the token and file URLs stay in the bot process and out of the logs.
    dumped = request.model_dump_json()
    assert api.token not in dumped and "documents/" not in dumped and "file/bot" not in dumped
    assert api.token not in caplog.text and "/file/bot" + api.token not in caplog.text
    assert "HTTP Request" in caplog.text or "getFile" in caplog.text  # the requests were logged, redacted


@pytest.mark.parametrize("chat", [ALICE, GROUP])
async def test_reply_to_an_earlier_message_with_media(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                      chat: int) -> None:
    image = png(96, 64, (10, 160, 40))
    earlier = api.message(chat, BOB, media=api.document(image, "earlier.png", "image/png"), push=False)
    api.push({"message": earlier})
    command = api.message(chat, ALICE, "/edit@ReelsmithBot add snow" if chat < 0 else "/edit add snow",
                          reply_to=earlier)
    answer = await answer_to(api, command)
    assert "Queued" in answer.params["text"], answer.params["text"]
    [ref] = (await _only_job(service)).references
    blob = await service.media(ref.blob_key)
    assert blob is not None and blob[0] == image and ref.width == 96


async def test_oversized_file_is_refused_before_download(api: FakeBotAPI, bot: TelegramBot,
                                                         service: Reelsmith) -> None:
    big = api.document(b"\x00" * 100, "huge.mp4", "video/mp4", size=25 * 1024 * 1024)
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=big))
    text = answer.params["text"]
    assert "25.0 MB" in text and "20 MB" in text and "smaller" in text
    assert api.attempts("getFile") == [] and api.attempts("download") == []
    assert await service.queue.depth() == 0


async def test_file_telegram_calls_too_big_is_refused(api: FakeBotAPI, bot: TelegramBot,
                                                      service: Reelsmith) -> None:
    # The message did not say how large the file is; getFile does ("file is too big").
    video = api.video(b"\x00" * 100, size=30 * 1024 * 1024)
    video["video"].pop("file_size")
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=video))
    assert "20 MB" in answer.params["text"]
    assert api.attempts("download") == [] and await service.queue.depth() == 0


@pytest.mark.parametrize("name,data,mime,expected", [
    ("photo.png", b"this is not an image at all", "image/png", "not a supported image"),
    ("cut.png", png(200, 200)[:120], "image/png", "damaged"),
    ("clip.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x13" * 400, "video/mp4", "damaged or in a format"),
])
async def test_corrupt_files_are_answered_and_cost_nothing(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith,
                                                           name: str, data: bytes, mime: str,
                                                           expected: str) -> None:
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/edit fix it",
                                              media=api.document(data, name, mime)))
    assert expected in answer.params["text"], answer.params["text"]
    assert await service.queue.depth() == 0


async def test_download_failure_is_answered(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    api.fail_next("getFile", status=400, description="Bad Request: wrong file_id or the file is temporarily "
                                                     "unavailable")
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/edit fix it", media=api.photo(jpeg())))
    assert "Send it again" in answer.params["text"]
    assert await service.queue.depth() == 0


async def test_voice_note_without_consent_is_refused_in_chat(api: FakeBotAPI, bot: TelegramBot,
                                                             service: Reelsmith) -> None:
    media, _data = KINDS["voice note"][1](api)
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/video a singing fox", media=media))
    assert "verified avatar" in answer.params["text"]
    assert await service.queue.depth() == 0


async def test_a_file_telegram_calls_too_big_is_not_given_a_made_up_size(api: FakeBotAPI, bot: TelegramBot,
                                                                          service: Reelsmith) -> None:
    # Issue 15: with no size stated anywhere, the refusal said the video "is 20.0 MB" (the limit plus a byte).
    video = api.video(b"\x00" * 100, size=30 * 1024 * 1024)
    video["video"].pop("file_size")
    answer = await answer_to(api, api.message(ALICE, ALICE, caption="/animate wave", media=video))
    text = answer.params["text"]
    assert "too big" in text and "20 MB" in text and "20.0 MB" not in text, text


def _webp() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 96), (20, 160, 90)).save(buf, format="WEBP")
    return buf.getvalue()


async def test_stickers_are_named_for_what_they_are(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    # Issue 15: every sticker was "sticker.webp", so an animated (TGS) one was refused under a name nobody saw.
    animated = api.message(ALICE, ALICE, media=api.sticker(b"\x1f\x8b" + b"\x00" * 60, animated=True), push=False)
    answer = await answer_to(api, api.message(ALICE, ALICE, "/edit make it snowy", reply_to=animated))
    text = answer.params["text"]
    assert "animated sticker" in text and "sticker.webp" not in text, text
    assert api.attempts("download") == [] and await service.queue.depth() == 0

    still = api.message(ALICE, ALICE, media=api.sticker(_webp()), push=False)
    assert "Queued" in (await answer_to(api, api.message(ALICE, ALICE, "/edit make it snowy",
                                                        reply_to=still))).params["text"]
    [ref] = (await _only_job(service)).references
    assert (ref.name, ref.mime) == ("sticker.webp", "image/webp")
