"""The docs cannot drift from the code: generated files are current, settings are described, named paths exist.

`mkdocs build --strict` (in .ci/run) checks links and anchors between pages; these check what it cannot see.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
TOP_DIRS = ("core", "bots", "workers", "tests", "deploy", "bench", "scripts", "docs")
# A repository path in prose: `core/queue/`, `tests/faults/test_load.py::test_x`, `deploy/k8s/worker.yaml`.
PATH_RE = re.compile(rf"(?<![\w/.<-])((?:{'|'.join(TOP_DIRS)})/[\w./-]*)")
# A module named by its dotted name: `core.moderation`, `core.queue.connection.as_text`.
DOTTED_RE = re.compile(r"(?<![\w.])((?:core|bots|workers)(?:\.[a-z_][a-z0-9_]*)+)")
# A bare file name in backticks: `fairness.py`, `test_worker_kill.py::test_...`.
BARE_FILE_RE = re.compile(r"`([\w-]+\.(?:py|yaml|yml|json|txt|sh))(?:::[\w]+)?`")
# A row of a module table: | `core/media/` | ... | `codecs.py` `audio.py` |
MODULE_ROW_RE = re.compile(r"^\| `((?:core|bots|workers)/[\w/]*)` \|")

# Issue 15 is reorganising the tree in parallel branches; the docs already name what those branches add,
# each on a line marked "planned". When one lands, its path exists and the test below says which mark to drop.
PLANNED: set[str] = set()  # paths the docs may name before they exist (each mention marked "planned")
# Files an owner or a model folder has, not the repository.
NOT_IN_REPO = {"deploy/.env", "model_index.json"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_settings_doc", ROOT / "scripts" / "gen_settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _lines() -> list[tuple[Path, int, str]]:
    return [(page, n, line) for page in PAGES for n, line in enumerate(page.read_text().splitlines(), 1)]


def _in_repo(name: str) -> bool:
    """Whether a file of that name exists in the project's own folders (not .venv) or is planned."""
    return ((ROOT / name).is_file() or any(any((ROOT / top).glob(f"**/{name}")) for top in TOP_DIRS)
            or any(p.endswith("/" + name) for p in PLANNED))


def _where(page: Path, n: int) -> str:
    return f"{page.relative_to(ROOT)}:{n}"


def test_generated_settings_reference_and_env_example_are_current() -> None:
    gen = _generator()
    stale = [str(p.relative_to(ROOT)) for p in gen.stale()]
    assert stale == [], f"stale: {stale}; run .venv/bin/python scripts/gen_settings_doc.py"


def test_generated_families_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_families_doc", ROOT / "scripts" / "gen_families_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not module.stale(), "docs/reference/families.md is stale; run .venv/bin/python scripts/gen_families_doc.py"
    assert "**none**" not in module.render()  # every checkpoint kind has its tiny twin


def test_every_setting_has_a_description_and_a_group() -> None:
    models: list[type[BaseModel]] = [Settings, *_generator()._nested_models()]
    undescribed = [f"{m.__name__}.{name}" for m in models for name, info in m.model_fields.items()
                   if len((info.description or "").strip()) < 10]
    assert undescribed == []
    grouped = [name for group in _generator().groups() for name in group.fields]
    assert sorted(grouped) == sorted(Settings.model_fields), "every field sits under a `# --- group ---` comment"
    assert "general" not in {g.title for g in _generator().groups()}


def test_env_examples_are_for_real_unset_settings() -> None:
    gen = _generator()
    for name in gen.EXAMPLES:
        assert name in Settings.model_fields, f"EXAMPLES names {name}, not a setting"
        # Only settings without a value get an example: the others show their default.
        assert gen.default_of(Settings.model_fields[name]) in (None, [], {}), name


def test_every_page_is_reachable_and_every_setting_is_in_the_reference() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").rglob("*.md"):
        assert str(page.relative_to(ROOT / "docs")) in nav, f"{page} is not in mkdocs.yml's nav"
    reference = (ROOT / "docs" / "reference" / "settings.md").read_text()
    missing = [n for n in Settings.model_fields if f"`REELSMITH_{n.upper()}`" not in reference and n != "redis_url"]
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert re.findall(r"^## .+", text, re.M)[0] == "## Two commands"
    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[0] for line in first_block] == ["scripts/run.sh", "scripts/test.sh"]


def test_paths_the_docs_name_exist() -> None:
    missing = []
    for page, n, line in _lines():
        for raw in PATH_RE.findall(line):
            path = raw.split("::")[0].rstrip(".,:;)")
            if path in PLANNED or path in NOT_IN_REPO:
                continue
            if not (ROOT / path).exists():
                missing.append(f"{_where(page, n)}: {path}")
    assert missing == []


def test_modules_the_docs_name_exist() -> None:
    missing = []
    for page, n, line in _lines():
        for dotted in DOTTED_RE.findall(line):
            parts = dotted.split(".")
            # The longest importable prefix must leave at most one name over (a function or class).
            found = max((i for i in range(1, len(parts) + 1)
                         if (ROOT / Path(*parts[:i])).with_suffix(".py").is_file()
                         or (ROOT / Path(*parts[:i]) / "__init__.py").is_file()), default=0)
            if found < len(parts) - 1:
                missing.append(f"{_where(page, n)}: {dotted}")
        for name in BARE_FILE_RE.findall(line):
            if name not in NOT_IN_REPO and not _in_repo(name):
                missing.append(f"{_where(page, n)}: {name}")
        row = MODULE_ROW_RE.match(line)
        if row:
            package = row.group(1).rstrip("/")
            for name in re.findall(r"`([\w]+\.py)`", line.split("|")[-2]):
                path = f"{package}/{name}"
                if path not in PLANNED and not (ROOT / path).is_file():
                    missing.append(f"{_where(page, n)}: {path}")
    assert missing == []


@pytest.mark.parametrize("path", sorted(PLANNED))
def test_planned_paths_are_marked_and_not_there_yet(path: str) -> None:
    assert not (ROOT / path).exists(), f"{path} exists now: drop it from PLANNED and its 'planned' mark in docs/"
    lines = [(page, n, line) for page, n, line in _lines() if path in line]
    assert lines, f"{path} is in PLANNED but no page names it"
    unmarked = [_where(page, n) for page, n, line in lines if "planned" not in line]
    assert unmarked == [], f"{path} named without a 'planned' mark"
