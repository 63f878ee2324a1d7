"""Results from the reply stream: photo/video with label and buttons, errors, 429s, network errors,
redelivery, re-encoding under the upload limits, notices and deletions."""

from __future__ import annotations

import io

import av
from PIL import Image

from bots.telegram.app import TelegramBot
from core.labelling.metadata import DIGITAL_SOURCE_TYPE
from core.queue.replies import ReplyBus
from core.service import button_data
from core.service.facade import Reelsmith
from core.types import Button, DeleteResult, GenerationReply, MediaFile, Notice
from tests.result_buttons_expected import IMAGE_ACTIONS, VIDEO_ACTIONS
from tests.telegram.conftest import ALICE, GROUP, answer_to, drained, noise_png, queue_job, reply_for, until
from tests.telegram.fake_api import Call, FakeBotAPI


def _mp4(frames: int = 9, size: int = 64, crf: int = 0) -> bytes:
    from core.media.codecs import encode_mp4

    imgs = [Image.effect_noise((size, size), 80 + i).convert("RGB") for i in range(frames)]
    return encode_mp4(imgs, fps=8, metadata={"DigitalSourceType": DIGITAL_SOURCE_TYPE, "comment": "AI"}, crf=crf)


async def test_image_result_replaces_the_status_message(api: FakeBotAPI, bot: TelegramBot,
                                                        service: Reelsmith) -> None:
    msg, status, request = await queue_job(api, service)
    image = noise_png()
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, image,
                                                                                   "image/png"))
    [photo] = await until(lambda: api.sent("sendPhoto"))
    assert photo.upload("photo") == image and photo.chat_id == ALICE
    assert photo.params["caption"].startswith("\U0001f916 AI-generated with Reelsmith")
    assert request.job_id in photo.params["caption"]
    assert photo.json("reply_parameters")["message_id"] == msg["message_id"]
    assert photo.callback_data() == [button_data(a, request.job_id) for a in IMAGE_ACTIONS]
    # The status message goes once the result is there.
    deleted = await until(lambda: api.sent("deleteMessage"))
    assert deleted[0].params["message_id"] == str(status.result["message_id"])
    assert await bot.state.delivered(request.job_id) == {
        "chat_id": str(ALICE), "message_ids": str(photo.result["message_id"]), "complete": "1"}


async def test_video_result_is_a_streamable_video(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    _msg, _status, request = await queue_job(api, service, "/video a fox running")
    clip = _mp4(crf=20)
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, clip,
                                                                                   "video/mp4"))
    [video] = await until(lambda: api.sent("sendVideo"))
    assert video.upload("video") == clip
    assert video.params["supports_streaming"] == "true"
    assert video.params["caption"].startswith("\U0001f916 AI-generated")
    assert video.callback_data() == [button_data(a, request.job_id) for a in VIDEO_ACTIONS]


async def test_error_reply_is_shown_in_the_status_message(api: FakeBotAPI, bot: TelegramBot,
                                                          service: Reelsmith) -> None:
    _msg, status, request = await queue_job(api, service)
    failed = GenerationReply(job_id=request.job_id, requester=request.requester, kind=request.kind,
                             prompt=request.prompt, seed=request.seed,
                             error="Your attachment expired before the job ran. Send it again.")
    await ReplyBus(service.redis, service.settings).publish_reply(failed)
    [edit] = await until(lambda: api.sent("editMessageText"))
    assert edit.params["message_id"] == str(status.result["message_id"])
    assert "attachment expired" in edit.params["text"]
    await drained(service)
    assert api.sent("sendPhoto", "deleteMessage") == []


async def test_429_during_delivery_is_waited_out_and_posted_once(api: FakeBotAPI, bot: TelegramBot,
                                                                 service: Reelsmith) -> None:
    _msg, _status, request = await queue_job(api, service)
    api.fail_next("sendPhoto", retry_after=1)
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, noise_png(),
                                                                                   "image/png"))
    await until(lambda: api.sent("sendPhoto"))
    await drained(service)
    assert [c.status for c in api.attempts("sendPhoto")] == [429, 200]


async def test_long_flood_wait_goes_back_to_the_stream_and_is_not_lost(api: FakeBotAPI, bot: TelegramBot,
                                                                       service: Reelsmith) -> None:
    bot.delivery.settings = service.settings.model_copy(update={"telegram_max_retry_after_s": 0.5})
    _msg, _status, request = await queue_job(api, service)
    api.fail_next("sendPhoto", retry_after=1)  # longer than we wait in place: the entry stays pending
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, noise_png(),
                                                                                   "image/png"))
    await until(lambda: api.sent("sendPhoto"))
    await drained(service)
    assert [c.status for c in api.attempts("sendPhoto")] == [429, 200]


async def test_network_errors_while_replying_are_retried(api: FakeBotAPI, bot: TelegramBot,
                                                         service: Reelsmith) -> None:
    _msg, _status, request = await queue_job(api, service)
    api.fail_next("sendPhoto", status=502)
    api.fail_next("sendPhoto", status=502)
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, noise_png(),
                                                                                   "image/png"))
    await until(lambda: api.sent("sendPhoto"))
    await drained(service)
    assert [c.status for c in api.attempts("sendPhoto")] == [502, 502, 200]


async def test_immediate_answer_survives_a_429(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    api.fail_next("sendMessage", retry_after=1)
    msg = api.message(ALICE, ALICE, "/imagine a patient fox")
    answer = await answer_to(api, msg)
    assert "Queued" in answer.params["text"]
    assert [c.status for c in api.attempts("sendMessage")] == [429, 200]


async def test_redelivered_reply_is_not_posted_twice(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    _msg, _status, request = await queue_job(api, service)
    reply = await reply_for(service, request, noise_png(), "image/png")
    await ReplyBus(service.redis, service.settings).publish_reply(reply)
    await until(lambda: api.sent("sendPhoto"))
    await drained(service)
    # What a crash between posting and acknowledging leaves behind: the same entry again.
    await service.redis.xadd(service.settings.key("replies", "telegram"),
                             {"type": "reply", "data": reply.model_dump_json()})
    await drained(service)
    assert len(api.sent("sendPhoto")) == 1


async def _post_over_limits(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith, image: bytes, clip: bytes,
                            photo_limit: int, video_limit: int) -> tuple[Call, Call]:
    """An image and a video result delivered under these upload limits: the sendPhoto and sendVideo calls."""
    bot.delivery.settings = service.settings.model_copy(update={
        "telegram_max_photo_bytes": photo_limit, "telegram_max_upload_bytes": video_limit})
    bus = ReplyBus(service.redis, service.settings)
    _m, _s, image_job = await queue_job(api, service, "/imagine noise")
    _m, _s, video_job = await queue_job(api, service, "/video noise")
    await bus.publish_reply(await reply_for(service, image_job, image, "image/png"))
    await bus.publish_reply(await reply_for(service, video_job, clip, "video/mp4"))
    [photo] = await until(lambda: api.sent("sendPhoto"))
    [video] = await until(lambda: api.sent("sendVideo"), timeout=60)
    return photo, video


async def test_results_over_the_upload_limits_are_reencoded(api: FakeBotAPI, bot: TelegramBot,
                                                            service: Reelsmith) -> None:
    image, clip = noise_png(128), _mp4(frames=17, size=128, crf=0)
    photo_limit, video_limit = len(image) // 4, len(clip) // 3
    photo, video = await _post_over_limits(api, bot, service, image, clip, photo_limit, video_limit)
    sent_image = photo.upload("photo")
    assert len(sent_image) <= photo_limit and Image.open(io.BytesIO(sent_image)).format == "JPEG"
    sent_clip = video.upload("video")
    assert len(sent_clip) <= video_limit
    with av.open(io.BytesIO(sent_clip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 17
        assert container.metadata.get("DigitalSourceType") == DIGITAL_SOURCE_TYPE  # the label survives
    assert video.params["caption"].startswith("\U0001f916 AI-generated")


def _labelled_png(size: int = 128) -> bytes:
    from core.media.codecs import encode_png

    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><Iptc4xmpExt:DigitalSourceType>{DIGITAL_SOURCE_TYPE}'
    return encode_png(Image.effect_noise((size, size), 90).convert("RGB"),
                      xmp=(xmp + "</Iptc4xmpExt:DigitalSourceType></x:xmpmeta>").encode())


def _mp4_with_sound(frames: int = 17, size: int = 128) -> bytes:
    import numpy as np

    from core.media.audio import PcmAudio
    from core.media.codecs import encode_mp4

    imgs = [Image.effect_noise((size, size), 80 + i).convert("RGB") for i in range(frames)]
    t = np.arange(int(48_000 * frames / 8), dtype=np.float32) / 48_000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return encode_mp4(imgs, fps=8, metadata={"DigitalSourceType": DIGITAL_SOURCE_TYPE}, crf=0,
                      audio=PcmAudio(np.stack([tone, tone])))


async def test_reencoded_results_keep_their_sound_and_their_label(api: FakeBotAPI, bot: TelegramBot,
                                                                  service: Reelsmith) -> None:
    # Issue 15: shrinking a video dropped its soundtrack, and the JPEG fallback for photos dropped the XMP label.
    image, clip = _labelled_png(), _mp4_with_sound()
    photo_limit, video_limit = len(image) // 4, len(clip) // 3
    photo, video = await _post_over_limits(api, bot, service, image, clip, photo_limit, video_limit)
    sent_image = Image.open(io.BytesIO(photo.upload("photo")))
    assert sent_image.format == "JPEG" and len(photo.upload("photo")) <= photo_limit
    assert DIGITAL_SOURCE_TYPE.encode() in sent_image.info.get("xmp", b"")  # the label survives the JPEG
    sent_clip = video.upload("video")
    assert len(sent_clip) <= video_limit
    with av.open(io.BytesIO(sent_clip)) as container:
        assert container.metadata.get("DigitalSourceType") == DIGITAL_SOURCE_TYPE
        [sound] = container.streams.audio  # the soundtrack survives the re-encode
        assert float(sound.duration * sound.time_base) > 1.5
        assert sum(1 for _ in container.decode(video=0)) == 17


async def test_notice_is_posted_with_media_and_buttons_once(api: FakeBotAPI, bot: TelegramBot,
                                                            service: Reelsmith) -> None:
    review_chat = -100999
    image = noise_png()
    blob = await service.blobs.put(image, "image/png")
    notice = Notice(platform="telegram", chat_id=str(review_chat), text="Report on job abc: a fox",
                    media=[MediaFile(blob_key=blob, mime="image/png", filename="r.png", size=len(image), width=64,
                                     height=64)],
                    buttons=[Button(label="Remove", data="rs:remove:abc"), Button(label="Keep", data="rs:keep:abc")],
                    ref="abc")
    bus = ReplyBus(service.redis, service.settings)
    await bus.publish_notice(notice)
    await bus.publish_notice(Notice(platform="telegram", chat_id=str(review_chat), text="Text-only notice"))
    [photo] = await until(lambda: api.sent("sendPhoto", chat_id=review_chat))
    [text] = await until(lambda: api.sent("sendMessage", chat_id=review_chat))
    assert photo.upload("photo") == image and photo.params["caption"] == "Report on job abc: a fox"
    assert photo.callback_data() == ["rs:remove:abc", "rs:keep:abc"]
    assert text.params["text"] == "Text-only notice"


async def test_delete_removes_the_result_or_blanks_it(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    bus = ReplyBus(service.redis, service.settings)
    results = []
    for prompt in ("/imagine first fox", "/imagine second fox"):
        _m, _s, request = await queue_job(api, service, prompt, chat=GROUP)
        await bus.publish_reply(await reply_for(service, request, noise_png(), "image/png"))
        results.append((request.job_id, (await until(lambda n=len(results): api.sent("sendPhoto")[n:]))[0]))
    await drained(service)
    (first_job, first_photo), (second_job, second_photo) = results
    await bus.publish_delete(DeleteResult(platform="telegram", job_id=first_job))
    await until(lambda: [c for c in api.sent("deleteMessage")
                         if c.params["message_id"] == str(first_photo.result["message_id"])])
    # Past Telegram's 48 h delete window the caption is replaced and the buttons removed instead.
    api.fail_next("deleteMessage", status=400, description="Bad Request: message can't be deleted for everyone")
    await bus.publish_delete(DeleteResult(platform="telegram", job_id=second_job))
    [blank] = await until(lambda: api.sent("editMessageCaption"))
    assert blank.params["message_id"] == str(second_photo.result["message_id"])
    assert "removed by a moderator" in blank.params["caption"] and "reply_markup" not in blank.params


async def test_a_blanked_result_tells_its_author_in_their_language(api: FakeBotAPI, bot: TelegramBot,
                                                                   service: Reelsmith) -> None:
    # A deletion carries no locale: the notice takes the author's from the stored request.
    queued = await answer_to(api, api.message(GROUP, ALICE, "/imagine ein Fuchs", language_code="de"))
    assert queued.params["text"].startswith("\u23f3 In der Warteschlange")
    job_id = next(j.decode() for j in reversed(await service.redis.zrange(service.settings.queue_name, 0, -1)))
    request = await service.queue.load_request(job_id)
    assert request is not None
    bus = ReplyBus(service.redis, service.settings)
    await bus.publish_reply(await reply_for(service, request, noise_png(), "image/png"))
    [photo] = await until(lambda: api.sent("sendPhoto"))
    await drained(service)
    api.fail_next("deleteMessage", status=400, description="Bad Request: message can't be deleted for everyone")
    await bus.publish_delete(DeleteResult(platform="telegram", job_id=job_id))
    [blank] = await until(lambda: api.sent("editMessageCaption"))
    assert blank.params["message_id"] == str(photo.result["message_id"])
    assert blank.params["caption"] == ("\U0001f5d1\ufe0f Dieses Ergebnis wurde von einem Moderator oder seinem Autor "
                                       "entfernt.")


async def test_restart_during_delivery_posts_once(api: FakeBotAPI, service: Reelsmith) -> None:
    from tests.telegram.conftest import make_bot

    first = make_bot(service)
    first.delivery.settings = service.settings.model_copy(update={"telegram_max_retry_after_s": 0.1})
    await first.start()
    _msg, status, request = await queue_job(api, service)
    for _ in range(1000):  # Telegram keeps refusing while the first bot runs: the entry stays pending
        api.fail_next("sendPhoto", retry_after=30)
    await ReplyBus(service.redis, service.settings).publish_reply(await reply_for(service, request, noise_png(),
                                                                                  "image/png"))
    await until(lambda: api.attempts("sendPhoto"))
    await first.stop()
    api.failures.clear()
    pending = await service.redis.xpending(service.settings.key("replies", "telegram"), "bots")
    assert pending["pending"] >= 1  # read, never acknowledged

    second = make_bot(service)
    await second.start()
    try:
        [photo] = await until(lambda: api.sent("sendPhoto"))
        deleted = await until(lambda: api.sent("deleteMessage"))
        assert deleted[0].params["message_id"] == str(status.result["message_id"])
        await drained(service)
    finally:
        await second.stop()
    assert len(api.sent("sendPhoto")) == 1 and photo.upload("photo")
