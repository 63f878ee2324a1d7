"""Bad input matrix: each case answered with a clear message, nothing stored or queued, nothing stuck."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from core.service import Attachment
from core.service.facade import Reelsmith
from core.types import Requester
from tests.conftest import wait_for
from tests.faults.media_samples import mp4, png, png_bomb

MEMBER = Requester(platform="web", user_id="m", chat_id="m")


async def _send(client: TestClient[Any, Any], text: str, files: list[tuple[str, bytes, str]] = ()) -> dict[str, Any]:
    form = FormData()
    form.add_field("chat", "bad")
    form.add_field("text", text)
    for name, data, mime in files:
        form.add_field("files", data, filename=name, content_type=mime)
    resp = await client.post("/api/command", data=form)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def _nothing_left(service: Reelsmith) -> None:
    """No job, blob or queue entry exists for this test's key prefix."""
    assert await service.queue.depth() == 0
    leftovers = [k async for k in service.redis.scan_iter(match=service.settings.key("job", "*"))]
    leftovers += [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))]
    assert leftovers == []


def _files(max_bytes: int) -> list[tuple[str, str, bytes, str, str]]:
    """(case, command, file bytes, file name, expected words in the answer)."""
    good = png()
    return [
        ("corrupt image bytes", "/edit snow", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "a.png",
         "not an image we can read"),
        ("truncated image", "/edit snow", good[: len(good) // 2], "a.png", "damaged"),
        ("decompression bomb 20000x20000", "/edit snow", png_bomb(20000), "bomb.png", "too many pixels"),
        ("over the size cap", "/edit snow", b"\x89PNG\r\n\x1a\n" + bytes(max_bytes), "big.png", "the limit is"),
        ("executable behind .png", "/edit snow", b"MZ\x90\x00\x03" + bytes(500), "cat.png", "not a supported"),
        ("pdf behind .jpg", "/edit snow", b"%PDF-1.4\n" + bytes(500), "cat.jpg", "not a supported"),
        ("text behind .mp4", "/animate dance", b"hello, this is not a video", "clip.mp4", "not a supported"),
        ("audio behind .jpg", "/edit snow", b"ID3\x04\x00" + bytes(500), "photo.jpg", "goes with a video"),
        ("empty file", "/edit snow", b"", "empty.png", "is empty"),
        ("10-minute video", "/animate dance", mp4(600, fps=1), "long.mp4", "600 s long"),
    ]


COMMANDS = [
    ("steps 10^9", "/imagine fox --steps 1000000000", "--steps must be between 1 and"),
    ("steps 0", "/imagine fox --steps 0", "--steps must be between 1 and"),
    ("seed -1", "/imagine fox --seed -1", "--seed must be between 0 and"),
    ("seed 10^23", "/imagine fox --seed 99999999999999999999999", "--seed must be between 0 and"),
    ("size 0x0", "/imagine fox --ar 0:0", "--ar sides must be above zero"),
    ("aspect 1000:1", "/imagine fox --ar 1000:1", "--ar"),
    ("frames 10^9", "/video fox --frames 1000000000", "--frames must be between 1 and"),
    ("duration -5", "/video fox --duration -5", "--duration must be a number"),
    ("duration nan", "/video fox --duration nan", "--duration must be a number"),
    ("only control and bidi characters", "/imagine \u202e\u0007\u200f\u0000\u2066", "needs a prompt"),
    ("100 000-character prompt", "/imagine " + "fox " * 25_000, "far too long"),
]


@pytest.mark.parametrize(("case", "text", "expected"), COMMANDS, ids=[c[0] for c in COMMANDS])
async def test_bad_commands_cost_nothing(service: Reelsmith, case: str, text: str, expected: str) -> None:
    out = await service.handle(MEMBER, text)
    assert not out.ok and out.job_id is None, case
    assert expected in out.text, (case, out.text)
    await _nothing_left(service)


async def test_bad_files_through_the_playground(web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    for case, command, data, name, expected in _files(service.settings.max_reference_bytes):
        sent = await _send(web_client, command, [(name, data, "image/png")])
        assert not sent["ok"] and sent["job_id"] is None, case
        assert expected in sent["message"]["text"], (case, sent["message"]["text"])
        await _nothing_left(service)
    for case, text, expected in COMMANDS:
        sent = await _send(web_client, text)
        assert not sent["ok"] and expected in sent["message"]["text"], (case, sent["message"]["text"])
    # Nothing crashed: the playground is healthy and still queues a good command.
    assert (await web_client.get("/healthz")).status == 200
    ok = await _send(web_client, "/imagine a fox")
    assert ok["ok"] and ok["job_id"]


async def test_huge_prompt_is_refused_before_any_work(service: Reelsmith) -> None:
    out = await service.handle(MEMBER, "/imagine " + "x" * 100_000)
    assert not out.ok and "100,009 characters" in out.text and "at most 1,000" in out.text


async def test_control_and_bidi_characters_are_stripped_from_queued_prompts(service: Reelsmith) -> None:
    out = await service.handle(MEMBER, "/imagine a \u202efox\u0000 in\u200b the\u2066 snow\u0007")
    assert out.ok and out.request is not None
    assert out.request.prompt == "a fox in the snow"
    stored = await service.queue.load_request(out.request.job_id)
    assert stored is not None and stored.prompt == "a fox in the snow"


async def test_one_frame_video_is_a_usable_reference(service: Reelsmith, worker: Any) -> None:
    out = await service.handle(MEMBER, "/animate make it dance", [Attachment(mp4(1, size=32), "one.mp4")])
    assert out.ok and out.job_id, out.text
    reply = await wait_for(lambda: service.queue.load_reply(out.job_id or ""), timeout=120)
    assert reply.error is None and reply.media[0].mime == "video/mp4"

    async def queue_empty() -> bool:  # arq removes the job after its function returns, just after the reply
        return await service.queue.depth() == 0

    await wait_for(queue_empty, timeout=10)
