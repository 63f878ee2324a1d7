"""When a result is posted behind a spoiler (`core.queue.replies.spoiler_for`), the --spoiler flag, and the
playground's marker (the page blurs such a result until it is clicked)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.errors import CommandError
from core.queue.replies import spoiler_for
from core.service.grammar import parse_command
from core.types import GenerationRequest, JobKind, Requester
from tests.playground import finished, send


def _request(**fields: object) -> GenerationRequest:
    return GenerationRequest(requester=Requester(platform="web", user_id="u", chat_id="c"), kind=JobKind.IMAGE,
                             prompt="p", width=64, height=64, seed=1, steps=2, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("spoiler", "nsfw_allowed", "flagged", "hidden"), [
    (True, False, False, True),  # asked for (--spoiler or the chat's default)
    (False, True, True, True),  # borderline: flagged, delivered where NSFW is allowed, but not at a glance
    (False, True, False, False),
    (False, False, False, False),
])
def test_spoiler_for(spoiler: bool, nsfw_allowed: bool, flagged: bool, hidden: bool) -> None:
    assert spoiler_for(_request(spoiler=spoiler, nsfw_allowed=nsfw_allowed), flagged=flagged) is hidden


def test_spoiler_flag_takes_no_value() -> None:
    assert parse_command("/imagine a fox --spoiler --ar 16:9").spoiler
    assert parse_command("/video a fox --spoiler").spoiler
    assert not parse_command("/imagine a fox").spoiler
    with pytest.raises(CommandError):
        parse_command("/imagine a fox --spoiler --spoiler")


async def test_the_playground_marks_a_spoiler_result(web_client: TestClient[Any, Any], worker: Any) -> None:
    hidden = await send(web_client, "chatS", "/imagine a reveal --spoiler")
    shown = await send(web_client, "chatS", "/imagine a reveal")
    assert hidden["ok"] and shown["ok"], (hidden, shown)
    assert (await finished(web_client, "chatS", hidden["job_id"]))["spoiler"] is True
    assert (await finished(web_client, "chatS", shown["job_id"]))["spoiler"] is False
