"""Blocklist matching sees through disguises, and only matches whole words."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.moderation.blocklist import find_match, load_protected, make_entry
from core.moderation.normalize import normalize

PROTECTED = [(e, "protected") for e in load_protected()]

EVASIONS = [
    ("T0m  Cru1se", "tom cruise"),
    ("tom cruise", "tom cruise"),
    ("TOM CRUISE", "tom cruise"),
    ("a photo of Tom Cruise on a beach", "tom cruise"),
    ("tomcruise", "tom cruise"),
    ("t o m c r u i s e", "tom cruise"),
    ("t.o.m. c.r.u.i.s.e", "tom cruise"),
    ("t-o-m_c-r-u-i-s-e", "tom cruise"),
    ("tom cru ise", "tom cruise"),
    ("Tóm Crüïse", "tom cruise"),
    ("tom\u200bcru\u200dise", "tom cruise"),
    ("t\u2060om cruis\ufeffe", "tom cruise"),
    ("\u0422\u043em \u0421ruis\u0435", "tom cruise"),  # Cyrillic Т о С е
    ("\u03c4\u03bfm cruise", "tom cruise"),  # Greek τ ο
    ("\U0001d413\U0001d428\U0001d426 \U0001d402\U0001d42b\U0001d42e\U0001d422\U0001d42c\U0001d41e", "tom cruise"),
    ("\uff34\uff4f\uff4d\u3000\uff23\uff52\uff55\uff49\uff53\uff45", "tom cruise"),  # fullwidth
    ("Tooom Cruuuise", "tom cruise"),
    ("tom cru!se", "tom cruise"),
    ("wow! tom cruise!!!", "tom cruise"),
    ("T\u0303o\u0301m\u0308 Cruise", "tom cruise"),  # zalgo marks
    ("tom cruises", "tom cruise"),
    ("Tom Cruise's smile", "tom cruise"),
    ("h4rry p0tt3r", "harry potter"),
    ("HARRYPOTTER", "harry potter"),
    ("Spider-Man", "spider-man"),
    ("spider man swinging", "spider-man"),
    ("$p1d3r-m@n", "spider-man"),
    ("Pik@chu!", "pikachu"),
    ("p i k a c h u", "pikachu"),
    ("pikachus", "pikachu"),
    ("D4rth V4d3r", "darth vader"),
    ("Mickey\u00a0Mouse", "mickey mouse"),
    ("ELON_MUSK", "elon musk"),
    ("tay10r sw1ft", "taylor swift"),
    ("Beyoncé", "beyonce"),
    ("b3y0nc3", "beyonce"),
]

CLEAN = [
    "tomato cruiser",
    "a tom cat on a cruise ship",
    "a king charles spaniel",
    "marvel at the sunset",
    "a legolas-style elf archer",
    "potter at a wheel, harry weather",
    "a spider on a man's hat",
    "bat mansion at night",
    "combat mantis",
    "the musk of an elk",
    "a red fox in the snow",
]


@pytest.mark.parametrize(("prompt", "expected"), EVASIONS)
def test_evasions_match(prompt: str, expected: str) -> None:
    match = find_match(prompt, PROTECTED)
    assert match is not None, prompt
    assert match.entry.text == expected


@pytest.mark.parametrize("prompt", CLEAN)
def test_no_false_positives(prompt: str) -> None:
    assert find_match(prompt, PROTECTED) is None


def test_table_is_big_enough() -> None:
    assert len(EVASIONS) >= 30 and len(load_protected()) > 50


def test_normalize_reading() -> None:
    assert normalize("T0m  Cru1se!") == normalize("tom cruise") == "tom cruise"
    assert normalize("Ｓｐｉｄｅｒ-Ｍａｎ") == "spider man"


def test_regex_entries() -> None:
    entry = make_entry(r"re:\bgore\w*", "chat")
    assert find_match("so much G0RE here", [(entry, "chat")]) is not None
    assert find_match("a gorilla", [(entry, "chat")]) is None
    assert find_match("a gorilla", [(make_entry(r"re:\bgore\b", "c"), "chat")]) is None
    with pytest.raises(ValueError, match="compile"):
        make_entry("re:(unclosed", "chat")
    with pytest.raises(ValueError, match="empty"):
        make_entry("re:x*", "chat")
    with pytest.raises(ValueError, match="hang"):
        make_entry("re:(a+)+$", "chat")


def test_own_protected_list(tmp_path: Path) -> None:
    path = tmp_path / "protected.txt"
    path.write_text("# ours\n[mascot]\nGizmo the Gnome\n", "utf-8")
    [entry] = load_protected(path)
    assert entry.category == "protected mascot"
    match = find_match("g1zm0 the gn0me waving", [(entry, "protected")])
    assert match is not None and match.entry is entry
