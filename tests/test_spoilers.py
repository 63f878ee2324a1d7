"""When a result is posted behind a spoiler (`core.queue.replies.spoiler_for`), and the --spoiler flag."""

from __future__ import annotations

import pytest

from core.errors import CommandError
from core.queue.replies import spoiler_for
from core.service.grammar import parse_command
from core.types import GenerationRequest, JobKind, Requester


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
