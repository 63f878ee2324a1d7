"""Which catalog a member's platform language selects, and the per-request current locale."""

from __future__ import annotations

import asyncio

import pytest

from core.i18n import _, current_locale, from_accept_language, from_platform, lazy_gettext, ngettext, use_locale


@pytest.mark.parametrize(("code", "locale"), [
    ("pt-BR", "pt_BR"), ("pt-br", "pt_BR"), ("pt", "pt_BR"), ("zh-CN", "zh_Hans"), ("zh-hans", "zh_Hans"),
    ("zh-TW", "en"), ("zh-Hant", "en"), ("ja", "ja"), ("ko", "ko"), ("es-ES", "es"), ("es-419", "es"),
    ("ru", "ru"), ("de", "de"), ("en-US", "en"), ("en-GB", "en"), ("fr", "en"), ("", "en"), ("not a tag!", "en"),
])
def test_platform_codes(code: str, locale: str) -> None:
    assert from_platform(code) == locale


@pytest.mark.parametrize(("header", "locale"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr-FR,fr;q=0.9,ja;q=0.5", "ja"), ("en;q=0.5,ru;q=0.9", "ru"),
    ("zh-CN,zh;q=0.9", "zh_Hans"), ("pt-BR", "pt_BR"), ("fr", "en"), ("", "en"), ("*", "en"), ("ko;q=0", "en"),
])
def test_accept_language(header: str, locale: str) -> None:
    assert from_accept_language(header) == locale


def test_texts_follow_the_current_locale_and_fill_named_fields() -> None:
    assert _("Cooldown: next job in {duration}.", duration="5 s") == "Cooldown: next job in 5 s."
    with use_locale("de"):
        assert current_locale() == "de"
        assert _("Cooldown: next job in {duration}.", duration="5 s") == "Pause: nächster Job in 5 s."
        with use_locale("ja"):
            assert current_locale() == "ja"
        assert current_locale() == "de"
    assert current_locale() == "en"


def test_plural_rules_per_language() -> None:
    one, many = "This {kind} costs {n} credit", "This {kind} costs {n} credits"
    assert ngettext(one, many, 1, kind="image") == "This image costs 1 credit"
    with use_locale("ru"):
        assert [ngettext(one, many, n, kind="x").split()[-1] for n in (1, 3, 5, 21)] == \
            ["кредит", "кредита", "кредитов", "кредит"]


async def test_concurrent_requests_keep_their_own_locale() -> None:
    async def speak(locale: str) -> str:
        with use_locale(locale):
            await asyncio.sleep(0)  # let the other request run in between
            return _("today")
    assert await asyncio.gather(speak("ja"), speak("de"), speak("")) == ["今日", "heute", "today"]


def test_lazy_texts_translate_when_used() -> None:
    text = lazy_gettext("Cooldown: next job in {duration}.", duration="5 s")
    assert str(text) == "Cooldown: next job in 5 s."
    with use_locale("de"):
        assert str(text) == "Pause: nächster Job in 5 s."
