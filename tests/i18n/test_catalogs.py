"""Every shipped catalog is complete, has no unused key and keeps each text's {named} fields."""

from __future__ import annotations

import string

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.i18n import SHIPPED, use_locale
from core.i18n.catalogs import DOMAIN, LOCALES_DIR, po_path
from core.i18n.template import extract_template
from core.labelling.metadata import DEFAULT_LABEL, LABEL_MARK, caption

TRANSLATED = [loc for loc in SHIPPED if loc != "en"]


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What is wrong with one catalog against the template: missing, unused, broken placeholders."""
    out: list[str] = []
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    out += [f"missing: {key!r}" for key in sorted(wanted - have.keys())]
    out += [f"unused: {key!r}" for key in sorted(have.keys() - wanted)]
    for key, m in have.items():
        if key not in wanted:
            continue
        forms = list(m.string) if isinstance(m.string, (tuple, list)) else [m.string]
        if not all(forms) or m.fuzzy:
            out.append(f"untranslated: {key!r}")
            continue
        ids = list(m.id) if isinstance(m.id, (tuple, list)) else [m.id]
        expected = set().union(*(fields(i) for i in ids))
        for form in forms:
            try:
                got = fields(form)
            except ValueError:
                out.append(f"unparsable placeholders in {form!r}")
                continue
            if got != expected:
                out.append(f"placeholders {sorted(got)} != {sorted(expected)} in {form!r}")
    return out


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract_template()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalog_is_complete_and_consistent(locale: str, template: Catalog) -> None:
    with po_path(locale).open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    assert problems(catalog, template) == []


def test_every_shipped_language_has_a_catalog() -> None:
    found = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    assert found == set(TRANSLATED)


def test_the_checker_finds_missing_unused_and_broken_texts(template: Catalog) -> None:
    """The check above can fail: a catalog with each kind of fault is caught."""
    first = next(m for m in template if m.id and "{" in str(m.id))
    bad = Catalog(locale="de", domain=DOMAIN)
    bad.add(first.id, "ohne Platzhalter" if isinstance(first.id, str) else ("a", "b"))
    bad.add("a text nobody uses", "ein Text")
    found = problems(bad, template)
    assert any(p.startswith("placeholders") for p in found)
    assert "unused: 'a text nobody uses'" in found
    assert sum(p.startswith("missing:") for p in found) == len([m for m in template if m.id]) - 1


@pytest.mark.parametrize("locale", SHIPPED)
def test_label_line_is_recognisable_and_keeps_ai_in_latin_letters(locale: str) -> None:
    with use_locale(locale):
        text = caption(label_text=DEFAULT_LABEL, service="Reelsmith", model="tiny", job_id="abc123", seed=42,
                       prompt="一只狐狸")
    label = text.split("\n", 1)[0]
    assert label.startswith(LABEL_MARK + " ")
    assert "AI" in label  # Latin A and I, not ИИ, KI or IA
    for part in ("Reelsmith", "tiny", "abc123", "42"):
        assert part in label
    assert text.endswith("\u201c一只狐狸\u201d")  # the prompt as typed, never translated
    if locale != "en":
        assert label != f"{LABEL_MARK} AI-generated with Reelsmith \u00b7 model tiny \u00b7 job abc123 \u00b7 seed 42"


def test_an_owners_own_label_is_shown_as_set() -> None:
    with use_locale("ja"):
        label = caption(label_text="Made by a machine", service="S", model="m", job_id="j", seed=1, prompt="p")
    assert "Made by a machine" in label
