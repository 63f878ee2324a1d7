"""Which language a request is answered in: the member's platform locale, settled to a shipped catalog."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from babel import Locale, UnknownLocaleError
from babel.core import parse_locale

from core.i18n.catalogs import SHIPPED

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_LOCALE = "en"
_current: ContextVar[str] = ContextVar("reelsmith_locale", default=DEFAULT_LOCALE)
# Chinese is shipped as Simplified; Taiwan, Hong Kong and Macau read Traditional, which is not shipped yet.
_TRADITIONAL = {"TW", "HK", "MO"}


def current_locale() -> str:
    """The locale texts are made in now (the request's, else English)."""
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Make texts in `locale` (any platform spelling; unknown or empty: English) inside the block."""
    token = _current.set(from_platform(locale or ""))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def from_platform(code: str) -> str:
    """A platform's language code (Discord `pt-BR`, `zh-CN`; Telegram `ja`, `pt-br`; a shipped name) -> the
    shipped locale that serves it, or English."""
    code = code.strip().replace("-", "_")
    if not code:
        return DEFAULT_LOCALE
    if code in SHIPPED:
        return code
    try:
        lang, territory, script, _variant = parse_locale(code)[:4]
    except ValueError:
        return DEFAULT_LOCALE
    lang = lang.lower()
    if lang == "zh":
        traditional = script == "Hant" or (script is None and (territory or "").upper() in _TRADITIONAL)
        return DEFAULT_LOCALE if traditional else "zh_Hans"
    if lang == "pt":
        # Brazilian Portuguese is the one shipped; European Portuguese readers understand it well.
        return "pt_BR"
    return lang if lang in SHIPPED else DEFAULT_LOCALE


def from_accept_language(header: str) -> str:
    """The shipped locale a browser's `Accept-Language` prefers (by q-value), via `babel.Locale.negotiate`."""
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            wanted.append((-q, i, tag.strip()))
    preferred = [tag for _q, _i, tag in sorted(wanted)]
    # Map each to its shipped spelling first, so zh-CN finds zh_Hans and pt finds pt_BR.
    settled = [from_platform(tag) if from_platform(tag) != DEFAULT_LOCALE else tag.replace("-", "_")
               for tag in preferred]
    try:
        found = Locale.negotiate(settled, list(SHIPPED), sep="_")
    except (UnknownLocaleError, ValueError):
        found = None
    if found is None:
        return DEFAULT_LOCALE
    return from_platform(str(found))


def run_in_locale(locale: str, fn: Callable[..., R], *args: Any) -> R:
    """`fn(*args)` with its texts in `locale`: for executor threads, which do not inherit context variables."""
    with use_locale(locale):
        return fn(*args)


def locale_of(who: object) -> str:
    """The member's locale on a `Requester`, or on anything carrying one (a request, a reply, a progress)."""
    requester = getattr(who, "requester", who)
    return str(getattr(requester, "locale", "") or "")


def in_member_locale(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a method whose first argument after `self` is the requester (or a request) in that member's locale."""
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        who = args[1] if len(args) > 1 else kwargs.get("requester", kwargs.get("request"))
        with use_locale(locale_of(who)):
            return await fn(*args, **kwargs)
    return wrapper
