"""How much the moderation checks add to a request, as ratios to parsing the command itself.

    python bench/moderation_checks.py

Prints the per-call cost of blocklist matching (protected list, short and maximum-length prompts)
and of face detection on a 640 px reference, each relative to `parse_command` on the same prompt.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.moderation.blocklist import find_match, load_protected  # noqa: E402
from core.moderation.faces import count_faces  # noqa: E402
from core.service.grammar import parse_command  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "moderation" / "data"


def per_call(fn: Callable[[], object], min_s: float = 0.5) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_s:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    entries = [(e, "protected") for e in load_protected()]
    short = "a corgi surfing at sunset, golden light, 35mm photo"
    long = ("a r3d f0x in the sn0w, " * 45)[:1000]
    for name, prompt in (("short prompt", short), ("1000-char prompt", long)):
        parse = per_call(lambda p=prompt: parse_command("/imagine " + p))
        match = per_call(lambda p=prompt: find_match(p, entries))
        print(f"blocklist ({len(entries)} entries), {name}: {match * 1e6:.0f} us = {match / parse:.1f}x parse_command")
    face = Image.open(io.BytesIO((DATA / "face.jpg").read_bytes())).convert("RGB").resize((640, 640))
    parse = per_call(lambda: parse_command("/edit " + short))
    detect = per_call(lambda: count_faces(face), 1.0)
    print(f"face detection, 640 px reference (scanned at 480 px): {detect * 1e3:.1f} ms "
          f"= {detect / parse:.0f}x parse_command")


if __name__ == "__main__":
    main()
