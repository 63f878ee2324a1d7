"""How much the moderation checks add to a request, as ratios to parsing the command itself.

    python bench/moderation_checks.py

Prints the refusal rate of the protected list on a variant table per category (Latin, Cyrillic, CJK,
kana, hangul, leetspeak, misspellings, reorderings, aliases), the false positives on a near-miss table,
the per-call cost of blocklist matching (short and maximum-length prompts) and of face detection on a
640 px reference, each relative to `parse_command` on the same prompt.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.moderation.blocklist import find_match, index_for, load_protected  # noqa: E402
from core.moderation.faces import count_faces  # noqa: E402
from core.service.grammar import parse_command  # noqa: E402
from tests.moderation.near_misses import NEAR_MISSES  # noqa: E402  (the tests' table)

DATA = Path(__file__).resolve().parents[1] / "tests" / "moderation" / "data"

# Ways members write protected names, per category of the shipped list.
VARIANTS = {
    "protected franchise or character": [
        "皮卡丘", "ピカチュウ", "피카츄", "Пикачу", "pikachoo", "p1k4chu", "米老鼠在跳舞", "ミッキーマウスの絵",
        "미키 마우스", "Гарри Поттер", "ハリー・ポッター", "해리 포터", "harry poter", "potter harry", "蜘蛛侠",
        "スパイダーマン", "스파이더맨", "Человек-паук", "spidey swinging", "$p1d3r-m@n", "бэтмен", "bruce wayne",
        "スーパーマン", "superrman", "钢铁侠", "tony stark", "ダース・ベイダー", "darth vadr", "grogu", "海绵宝宝",
        "sponge bob", "ＨＥＬＬＯ ＫＩＴＴＹ", "dead pool", "ΜΙΚKEY mouse", "hogwarts castle",
        "hogwartz", "ポケモン", "宝可梦", "포켓몬", "mine craft", "マインクラフト", "gandalf the grey",
        "ガンダルフ", "トトロ", "ジブリ", "迪士尼公主", "ディズニー", "디즈니", "shrek", "Шрек",
    ],
    "protected public figure": [
        "Илон Маск", "埃隆·马斯克", "イーロン・マスク", "일론 머스크", "elon mask", "musk elon", "elon r. musk",
        "e1on mu$k", "elon ΜUSK", "马斯克的火箭", "特朗普", "川普", "ドナルド・トランプ", "도널드 트럼프",
        "Дональд Трамп", "donald j. trump", "trump donald", "donuld trump", "drumpf", "普京", "Путин",
        "プーチン", "푸틴", "vladimir v. putin", "putin vladimir", "泰勒·斯威夫特", "テイラー・スウィフト",
        "테일러 스위프트", "Тейлор Свифт", "taylor alison swift", "tayl0r swlft", "taylor swfit", "习近平",
        "시진핑", "Си Цзиньпин", "拜登", "Джо Байден", "joe r biden", "barak obama", "奥巴马", "オバマ",
        "scarlet johanson", "キアヌ・リーブス", "keanu reaves", "leo dicaprio", "zuckerburg", "bill h. gates",
        "梅西", "メッシ", "lionel andres messi",
    ],
}


def per_call(fn: Callable[[], object], min_s: float = 0.5) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_s:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    entries = index_for([(e, "protected") for e in load_protected()])
    for category, variants in VARIANTS.items():
        refused = [v for v in variants if (m := find_match(v, entries)) is not None and m.entry.category == category]
        missed = sorted(set(variants) - set(refused))
        print(f"{category}: {len(refused)}/{len(variants)} refused ({100 * len(refused) / len(variants):.0f}%)"
              + (f"; missed: {', '.join(missed)}" if missed else ""))
    false = [n for n in NEAR_MISSES if find_match(n, entries) is not None]
    print(f"near misses: {len(false)}/{len(NEAR_MISSES)} refused (false positives)" + (f": {false}" if false else ""))
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
