"""The shared command grammar: valid commands parse, invalid ones get a message naming the problem."""

from __future__ import annotations

import pytest

from core.errors import CommandError
from core.service.grammar import clean_text, frames_for, parse_command
from core.types import JobKind, size_for


def test_imagine_with_all_flags() -> None:
    p = parse_command("/imagine a corgi surfing --ar 16:9 --seed 42 --steps 20 --no blurry, text")
    assert p.kind == JobKind.IMAGE
    assert p.prompt == "a corgi surfing"
    assert (p.aspect_ratio, p.seed, p.steps, p.negative_prompt) == ("16:9", 42, 20, "blurry, text")


def test_bot_suffix_and_case() -> None:
    p = parse_command("/Imagine@ReelsmithBot a fox")
    assert p.kind == JobKind.IMAGE and p.prompt == "a fox"


def test_words_after_a_flag_value_stay_in_the_prompt() -> None:
    p = parse_command("/imagine a fox --ar 3:2 in the snow")
    assert p.prompt == "a fox in the snow" and p.aspect_ratio == "3:2"


@pytest.mark.parametrize("cmd,kind", [("edit", JobKind.EDIT), ("video", JobKind.VIDEO), ("animate", JobKind.ANIMATE)])
def test_each_kind(cmd: str, kind: JobKind) -> None:
    assert parse_command(f"/{cmd} x").kind == kind


def test_video_flags() -> None:
    p = parse_command("/video a fox running --frames 49")
    assert p.frames == 49
    p = parse_command("/video a fox running --duration 2.5")
    assert p.duration_s == 2.5


def test_help() -> None:
    assert parse_command("/help").kind is None


@pytest.mark.parametrize("text,fragment", [
    ("/imagine", "needs a prompt"),
    ("/imagine   --ar 16:9", "needs a prompt"),
    ("/imagine fox --ar 16", "--ar must look like"),
    ("/imagine fox --ar 0:9", "above zero"),
    ("/imagine fox --ar 10:1", "too extreme"),
    ("/imagine fox --seed -1", "between 0 and"),
    ("/imagine fox --seed abc", "whole number"),
    ("/imagine fox --steps 1000000000", "between 1 and 60"),
    ("/imagine fox --steps 0", "between 1 and 60"),
    ("/imagine fox --steps", "needs a value"),
    ("/imagine fox --no", "needs something to avoid"),
    ("/imagine fox --wings 2", "Unknown flag --wings"),
    ("/imagine fox --seed 1 --seed 2", "given twice"),
    ("/imagine fox --frames 9", "only works with /video"),
    ("/video fox --frames 9 --duration 1", "not both"),
    ("/video fox --duration 0", "between"),
    ("/dance fox", "Unknown command /dance"),
    ("imagine a fox", "Start with a command"),
    ("", "Start with a command"),
])
def test_invalid(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as err:
        parse_command(text)
    assert fragment in err.value.message


def test_prompt_length_limit_is_configurable() -> None:
    parse_command("/imagine " + "a" * 50, max_prompt_chars=50)
    with pytest.raises(CommandError, match="limit is 49"):
        parse_command("/imagine " + "a" * 50, max_prompt_chars=49)
    with pytest.raises(CommandError, match="far too long"):
        parse_command("/imagine " + "a" * 100_000)


def test_control_and_bidi_characters_are_removed() -> None:
    assert clean_text("a\u202eb\u200bc\x00d\u2066e\tf") == "abcde f"
    p = parse_command("/imagine a\u202e fox\x07")
    assert p.prompt == "a fox"


def test_sizes_and_frames() -> None:
    assert size_for("1:1", 1024) == (1024, 1024)
    assert size_for("16:9", 1024) == (1024, 576)
    assert size_for("9:16", 64) == (32, 64)
    assert frames_for(None, None, 24, 97, 161) == 97
    assert frames_for(50, None, 24, 97, 161) == 49
    assert frames_for(None, 2.0, 24, 97, 161) == 41
    assert frames_for(10_000, None, 24, 97, 161) == 161
