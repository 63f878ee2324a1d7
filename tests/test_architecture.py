"""The shape of the tree: core stays platform-neutral; adapters use only core's public API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("bots", "workers", "discord", "telegram")


def _imports(path: Path) -> list[str]:
    """Every module `path` imports (absolute imports; at any depth, lazy ones inside functions too)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_core_imports_nothing_platform_specific() -> None:
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        offenders += [f"{path.name}: {n}" for n in _imports(path) if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def _reaches_inside_a_core_package(name: str) -> bool:
    """`core.<package>.<module>`: past what the package's `__init__` states as its public names."""
    parts = name.split(".")
    return len(parts) > 2 and parts[0] == "core" and (ROOT / "core" / parts[1] / "__init__.py").exists()


def test_bots_use_only_cores_public_api() -> None:
    # Adapters import names from core's packages (`from core.service import Reelsmith`) or its top-level
    # modules (`core.settings`, `core.types` ...), never a package's modules; and never generation (worker-only).
    offenders = []
    for path in (ROOT / "bots").rglob("*.py"):
        for name in _imports(path):
            if _reaches_inside_a_core_package(name) or name.split(".")[:2] == ["core", "generation"]:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_layout() -> None:
    for name in ("pyproject.toml", "README.md", "bots", "core", "workers", "tests", "deploy", "bench", ".ci/run"):
        assert (ROOT / name).exists(), name
