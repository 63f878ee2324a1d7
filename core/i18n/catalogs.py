"""The shipped message catalogs, read from their .po files once per process.

The .po files are the only copy: they are loaded with `babel.messages.pofile` and turned into gettext
translations in memory, so there is no compile step at install or test time and no binary .mo file in git
(text catalogs merge; .mo files do not).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "reelsmith"
# Every language with a complete catalog; "en" is the msgids themselves.
SHIPPED = ("en", "zh_Hans", "ja", "ko", "es", "pt_BR", "ru", "de")


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The gettext translations of a shipped locale (English, and anything unknown, reads the msgids)."""
    path = po_path(locale)
    if locale == "en" or not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)
