"""Re-extract the translatable texts and merge them into every shipped catalog.

    .venv/bin/python scripts/update_catalogs.py            # writes core/i18n/locales/reelsmith.pot and each .po
    .venv/bin/python scripts/update_catalogs.py --init xx  # starts a new language's catalog

New texts arrive untranslated (the catalog test then names them); texts gone from the code are dropped.
Same as `pybabel extract -F core/i18n/babel.cfg -k lazy_gettext ...` then `pybabel update`, without fuzzy guesses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

from core.i18n.catalogs import DOMAIN, LOCALES_DIR, SHIPPED, po_path  # noqa: E402
from core.i18n.template import extract_template  # noqa: E402


def _translated(string: object) -> bool:
    """Every form of a catalog entry is filled in (plural entries have one per form)."""
    forms = list(string) if isinstance(string, (tuple, list)) else [string]
    return all(isinstance(f, str) and f for f in forms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--init", metavar="LOCALE", help="start a catalog for a new language")
    args = parser.parse_args()
    template = extract_template()
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, template, omit_header=False, sort_output=False, width=120, include_lineno=False)
    locales = [loc for loc in SHIPPED if loc != "en"] + ([args.init] if args.init else [])
    for locale in locales:
        path = po_path(locale)
        if path.is_file():
            with path.open("rb") as f:
                catalog = read_po(f, locale=locale, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain=DOMAIN, project="Reelsmith")
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()  # texts gone from the code: not kept as unused keys
        with path.open("wb") as f:
            # File names without line numbers: an edit elsewhere in a file does not touch every catalog.
            write_po(f, catalog, width=120, include_previous=False, include_lineno=False)
        missing = sum(1 for m in catalog if m.id and not _translated(m.string))
        print(f"{locale}: {len(catalog) - 1} texts, {missing} untranslated")


if __name__ == "__main__":
    main()
