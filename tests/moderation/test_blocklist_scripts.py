"""Issue 19: the protected list holds in every script and every text field, through the service, charging nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.moderation import Moderation, moderation_feature
from core.moderation.blocklist import find_match, load_protected, make_entry, parse_list
from core.queue.connection import connect
from core.quotas import QuotaBook, quota_feature
from core.service.facade import Reelsmith
from core.settings import Settings
from core.styles.feature import styles_feature
from tests.moderation.conftest import MEMBER_CTX, MOD_CTX, FakeClock, FakeQuota, person
from tests.moderation.near_misses import NEAR_MISSES

PROTECTED = [(e, "protected") for e in load_protected()]

# (evasion class, prompt, the entry it must be refused as)
EVASIONS = [
    ("chinese", "一只皮卡丘在草地上奔跑", "pikachu"),
    ("japanese kana", "ピカチュウのイラスト", "pikachu"),
    ("korean", "피카츄 그림", "pikachu"),
    ("russian", "Илон Маск на Марсе", "elon musk"),
    ("chinese name", "埃隆·马斯克在火星上", "elon musk"),
    ("japanese name", "イーロン・マスクの肖像", "elon musk"),
    ("korean name", "일론 머스크 사진", "elon musk"),
    ("chinese surname", "特朗普在白宫", "donald trump"),
    ("misspelling", "pikachoo in a forest", "pikachu"),
    ("misspelling", "elon mask at a desk", "elon musk"),
    ("misspelling", "scarlet johanson portrait", "scarlett johansson"),
    ("reordering", "musk elon giving a talk", "elon musk"),
    ("reordering", "trump, donald at a rally", "donald trump"),
    ("initials", "elon r. musk on stage", "elon musk"),
    ("middle name", "donald john trump waving", "donald trump"),
    ("alias", "grogu eating soup", "baby yoda"),
    ("alias", "tony stark in his lab", "iron man"),
    ("greek capital mu", "elon \u039cUSK", "elon musk"),
    ("greek capitals", "\u039c\u0399\u039aKEY mouse", "mickey mouse"),
    ("leetspeak", "3l0n mu5k", "elon musk"),
]



@pytest.mark.parametrize(("kind", "prompt", "expected"), EVASIONS)
def test_evasion_classes(kind: str, prompt: str, expected: str) -> None:
    match = find_match(prompt, PROTECTED)
    assert match is not None, (kind, prompt)
    assert match.entry.text == expected, kind


@pytest.mark.parametrize("prompt", NEAR_MISSES)
def test_near_misses_pass(prompt: str) -> None:
    assert find_match(prompt, PROTECTED) is None


def test_tables_are_big_enough() -> None:
    assert len(NEAR_MISSES) >= 30 and len({k for k, _, _ in EVASIONS}) >= 10


def test_list_format() -> None:
    [entry] = parse_list("[mascot; names]\ngizmo gnome | ギズモ | Гизмо | !gizmos\n")
    assert entry.category == "protected mascot" and entry.names == (("gizmo", "gnome"),)
    assert find_match("ギズモの絵", [(entry, "protected")]) is not None
    assert find_match("gnome gizmo", [(entry, "protected")]) is not None
    with pytest.raises(ValueError, match="one script"):
        make_entry("dc漫画", "chat")


@pytest.fixture
async def service(mod_settings: Settings) -> AsyncIterator[tuple[Reelsmith, QuotaBook]]:
    redis = await connect(mod_settings)
    mod = Moderation.build(mod_settings, redis, quota=FakeQuota(), clock=FakeClock())
    book = QuotaBook(redis, mod_settings)
    features = [moderation_feature(mod), quota_feature(book), styles_feature(redis, mod)]
    yield Reelsmith(mod_settings, redis, features), book
    await redis.aclose()


async def test_every_class_refused_through_the_service_and_nothing_charged(
        service: tuple[Reelsmith, QuotaBook]) -> None:
    svc, book = service
    bob = person("bob")
    for kind, prompt, expected in EVASIONS:
        out = await svc.handle(bob, f"/imagine {prompt}", ctx=MEMBER_CTX)
        assert not out.ok and f"\u201c{expected}\u201d" in out.text, (kind, out.text)
    assert (await book.usage("web", "bob")).used == 0 and await svc.queue.depth() == 0
    # The same book does charge an accepted request, so the zero above means something.
    assert (await svc.handle(bob, "/imagine a tomato cruiser", ctx=MEMBER_CTX)).ok
    assert (await book.usage("web", "bob")).used > 0


async def test_negative_prompt_and_meme_captions_are_checked(service: tuple[Reelsmith, QuotaBook]) -> None:
    svc, book = service
    bob = person("bob")
    out = await svc.handle(bob, "/meme a cat | elon musk | pikachu", ctx=MEMBER_CTX)
    assert not out.ok and "top caption names \u201celon musk\u201d" in out.text, out.text
    out = await svc.handle(bob, "/meme a cat | when it works | \u30d4\u30ab\u30c1\u30e5\u30a6", ctx=MEMBER_CTX)
    assert not out.ok and "bottom caption names \u201cpikachu\u201d" in out.text, out.text
    out = await svc.handle(bob, "/imagine a mouse in a field --no mickey mouse", ctx=MEMBER_CTX)
    assert not out.ok and "negative prompt (--no) names \u201cmickey mouse\u201d" in out.text, out.text
    assert (await book.usage("web", "bob")).used == 0 and await svc.queue.depth() == 0
    assert (await svc.handle(bob, "/meme a cat | when it works | on the first try", ctx=MEMBER_CTX)).ok


async def test_chat_style_template_and_negative_are_checked(service: tuple[Reelsmith, QuotaBook]) -> None:
    svc, _ = service
    maud = person("maud")
    out = await svc.handle(maud, "/styles add musky {prompt}, portrait of Илон Маск", ctx=MOD_CTX)
    assert not out.ok and "elon musk" in out.text, out.text
    out = await svc.handle(maud, "/styles add ghibli2 {prompt}, soft colours --no \u30c8\u30c8\u30ed", ctx=MOD_CTX)
    assert not out.ok and "negative prompt" in out.text and "totoro" in out.text, out.text
