"""Albums (media groups) through the real PTB Application: one request per album, references in album order."""

from __future__ import annotations

from typing import Any

import pytest

from bots.telegram.app import TelegramBot
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationRequest, MediaType
from tests.telegram.conftest import ALICE, BOB, GROUP, answer_to, png, until
from tests.telegram.fake_api import FakeBotAPI

WINDOW_S = 0.4
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200), (200, 30, 200),
           (120, 120, 120), (250, 250, 250), (10, 10, 10), (90, 40, 10)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_album_window_s": WINDOW_S})


def _images(n: int) -> list[bytes]:
    return [png(64 + 8 * i, 64, COLOURS[i]) for i in range(n)]


def _album(api: FakeBotAPI, chat: int, items: list[dict[str, Any]], *, caption_at: int | None = 0,
           caption: str = "/video a fox @image1 @image2", group: str = "album1",
           reply_to: dict[str, Any] | None = None, user: int = ALICE) -> list[dict[str, Any]]:
    """An album as Telegram sends it: one message per item, same media_group_id, the caption on one item."""
    messages = [api.message(chat, user, caption=caption if i == caption_at else None,
                            media={**media, "media_group_id": group}, reply_to=reply_to, push=False)
                for i, media in enumerate(items)]
    for msg in messages:
        api.push({"message": msg})
    return messages


async def _jobs(service: Reelsmith) -> list[GenerationRequest]:
    requests = []
    for job_id in await service.redis.zrange(service.settings.queue_name, 0, -1):
        request = await service.queue.load_request(job_id.decode())
        assert request is not None
        requests.append(request)
    return requests


async def _image_refs(service: Reelsmith, request: GenerationRequest) -> list[bytes]:
    out = []
    for ref in request.references:
        assert ref.media_type == MediaType.IMAGE
        blob = await service.media(ref.blob_key)
        assert blob is not None
        out.append(blob[0])
    return out


def _replies(api: FakeBotAPI, messages: list[dict[str, Any]]) -> list[str]:
    return [c.params["text"] for m in messages for c in api.replies_to(m)]


async def test_album_with_caption_on_first_item_is_one_job_in_order(api: FakeBotAPI, bot: TelegramBot,
                                                                    service: Reelsmith) -> None:
    images = _images(3)
    album = _album(api, ALICE, [api.photo(data) for data in images])
    status = await answer_to(api, album[0])
    assert "Queued (position 1)" in status.params["text"], status.params["text"]
    await until(lambda: bot.handlers.albums.closed >= 1)
    [request] = await _jobs(service)
    assert await _image_refs(service, request) == images  # album order, the largest size of each photo
    assert [r.width for r in request.references] == [64, 72, 80]
    assert request.requester.route["message_id"] == str(album[0]["message_id"])
    assert _replies(api, album) == [status.params["text"]]  # answered once, on the captioned item
    assert await bot.state.status(request.job_id) == {"chat_id": str(ALICE),
                                                     "message_id": str(status.result["message_id"])}


async def test_caption_on_a_later_item_and_replied_media_first(api: FakeBotAPI, bot: TelegramBot,
                                                               service: Reelsmith) -> None:
    earlier_image, *images = _images(4)
    earlier = api.message(GROUP, BOB, media=api.document(earlier_image, "earlier.png", "image/png"), push=False)
    album = _album(api, GROUP, [api.photo(data) for data in images], caption_at=2,
                   caption="/video@ReelsmithBot the fox from @image2 meets @image1", reply_to=earlier)
    status = await answer_to(api, album[2])
    assert "Queued" in status.params["text"], status.params["text"]
    await until(lambda: bot.handlers.albums.closed >= 1)
    [request] = await _jobs(service)
    # Replied-to media first, then the album; the prompt names @image2 first, so core puts it in front.
    refs = await _image_refs(service, request)
    assert refs == [images[0], earlier_image, images[1], images[2]]
    assert _replies(api, album) == [status.params["text"]]


async def test_items_arriving_in_separate_polls_still_make_one_album(api: FakeBotAPI, bot: TelegramBot,
                                                                     service: Reelsmith) -> None:
    images = _images(3)
    first, *rest = [api.photo(data) for data in images]
    [head] = _album(api, ALICE, [first])
    await until(lambda: len(bot.handlers.albums) == 1)  # the first item is waiting for the others
    tail = _album(api, ALICE, rest, caption_at=None)
    status = await answer_to(api, head)
    assert "Queued" in status.params["text"]
    [request] = await _jobs(service)
    assert await _image_refs(service, request) == images
    assert _replies(api, tail) == []


async def test_album_without_a_command_is_ignored(api: FakeBotAPI, bot: TelegramBot, service: Reelsmith) -> None:
    album = _album(api, ALICE, [api.photo(data) for data in _images(3)], caption="holiday pictures")
    await until(lambda: bot.handlers.albums.closed >= 1)
    assert _replies(api, album) == [] and api.sent() == []
    assert api.attempts("getFile") == [] and await service.queue.depth() == 0
    # The next command is answered as usual: the album left nothing behind.
    later = api.message(ALICE, ALICE, "/imagine a red fox")
    assert "Queued" in (await answer_to(api, later)).params["text"]
    assert len(bot.handlers.albums) == 0


async def test_album_with_too_many_images_gets_cores_refusal(api: FakeBotAPI, bot: TelegramBot,
                                                             service: Reelsmith) -> None:
    album = _album(api, ALICE, [api.photo(data) for data in _images(10)], caption="/video a fox parade")
    answer = await answer_to(api, album[0])
    text = answer.params["text"]
    assert "You attached 10 image files; a request takes at most 9" in text, text
    assert await service.queue.depth() == 0
    assert _replies(api, album) == [text]


async def test_oversized_album_item_is_refused_before_queueing(api: FakeBotAPI, bot: TelegramBot,
                                                               service: Reelsmith) -> None:
    big = api.document(b"\x00" * 100, "huge.mp4", "video/mp4", size=25 * 1024 * 1024)
    album = _album(api, ALICE, [api.photo(_images(1)[0]), big], caption="/animate wave")
    answer = await answer_to(api, album[0])
    assert "25.0 MB" in answer.params["text"] and "smaller" in answer.params["text"]
    assert await service.queue.depth() == 0
    assert api.attempts("getFile") == [] and api.attempts("download") == []  # not even the photo
