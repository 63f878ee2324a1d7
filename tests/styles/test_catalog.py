"""The owner's styles file: checked at start-up, each problem named with the file and the style."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from core.styles.catalog import StyleError, load_styles

GOOD = '''
[[style]]
name = "Watercolor"
template = "{prompt}, soft watercolor painting"
negative = "photo"
loras = [{ name = "watercolor", weight = 0.8 }]
aspect = "3:2"
'''


def _load(settings: Settings, tmp_path: Path, text: str) -> dict[str, object]:
    path = tmp_path / "styles.toml"
    path.write_text(text)
    return dict(load_styles(settings.model_copy(update={"styles_file": path})))


def test_a_good_file_loads(settings: Settings, tmp_path: Path) -> None:
    styles = _load(settings, tmp_path, GOOD)
    style = styles["watercolor"]
    assert style.render("a fox") == "a fox, soft watercolor painting"  # type: ignore[attr-defined]
    assert [(lo.name, lo.weight) for lo in style.loras] == [("watercolor", 0.8)]  # type: ignore[attr-defined]


def test_no_file_no_styles(settings: Settings) -> None:
    assert load_styles(settings) == {}


@pytest.mark.parametrize("change,says", [
    (('name = "Watercolor"', 'name = "water/color"'), "not allowed"),
    (("{prompt}, soft", "soft"), "needs {prompt}"),
    (("{prompt}, soft", "{prompt} {style}, soft"), "only {prompt}"),
    (('aspect = "3:2"', 'aspect = "9:1"'), "too extreme"),
    (('aspect = "3:2"', 'aspect = "wide"'), "must look like 16:9"),
    (('name = "watercolor", weight', 'name = "oils", weight'), "Unknown LoRA 'oils'"),
    (('name = "watercolor", weight', 'name = "../watercolor", weight'), "not a file stem"),
    (("weight = 0.8", "weight = 9"), "out of range"),
])
def test_problems_are_named(settings: Settings, tmp_path: Path, change: tuple[str, str], says: str) -> None:
    with pytest.raises(StyleError, match="styles.toml: style ") as err:
        _load(settings, tmp_path, GOOD.replace(*change))
    assert says in str(err.value)


def test_a_duplicate_and_a_broken_file_are_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(StyleError, match="declared twice"):
        _load(settings, tmp_path, GOOD + GOOD)
    with pytest.raises(StyleError, match="cannot read"):
        _load(settings, tmp_path, "[[style]\nname=")
