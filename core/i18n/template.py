"""The catalog template: every translatable text in the code, extracted as `pybabel extract` does.

Used by scripts/update_catalogs.py (writes the .pot and merges it into each .po) and by the catalog test
(every shipped catalog matches a fresh extraction: nothing missing, nothing unused).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from core.i18n.catalogs import DOMAIN

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core", "bots", "workers")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
METHODS = [("**.py", "python")]


def extract_template() -> Catalog:
    """A fresh template from the sources (msgid -> where it is used)."""
    # A fixed date: re-running the extraction changes a catalog only where its texts changed (merges stay clean).
    template = Catalog(domain=DOMAIN, project="Reelsmith", fuzzy=False,
                       creation_date=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / source, METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            template.add(message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments, context=context)
    return template
