"""`_()` and friends: translate into the current locale, then fill the {named} fields.

Placeholders are named format fields filled after translation, so a translation may move them:
`_("Queued (position {position}).", position=3)`. A text without fields is returned as translated
(braces in it are not formatted).
"""

from __future__ import annotations

from typing import Any

from babel.support import LazyProxy

from core.i18n.catalogs import translations
from core.i18n.locale import current_locale


def N_(message: str) -> str:
    """Mark a text for extraction where it is defined (a constant); translate it where it is shown with `_`."""
    return message


def translate(message: str, locale: str | None = None) -> str:
    """`message` in `locale` (default: the current one), unformatted."""
    return translations(locale or current_locale()).gettext(message)


def _(message: str, **fields: Any) -> str:
    """`message` in the current locale, with its {named} fields filled."""
    text = translate(message)
    return text.format(**fields) if fields else text


def ngettext(singular: str, plural: str, n: int, **fields: Any) -> str:
    """The singular or plural text for `n` in the current locale (its plural rules); `{n}` is filled too."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text.format(n=n, **fields)


def lazy_gettext(message: str, **fields: Any) -> LazyProxy:
    """A text translated when it is used (in the locale current then), for module-level constants."""
    return LazyProxy(_, message, enable_cache=False, **fields)
