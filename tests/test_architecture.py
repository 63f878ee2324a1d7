"""The shape of the tree: core stays platform-neutral."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("bots", "workers", "discord", "telegram")


def test_core_imports_nothing_platform_specific() -> None:
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_layout() -> None:
    for name in ("pyproject.toml", "README.md", "bots", "core", "workers", "tests", "deploy", "bench", ".ci/run"):
        assert (ROOT / name).exists(), name
