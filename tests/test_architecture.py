"""The shape of the tree: core stays platform-neutral, features sit below the service that assembles them,
bots use core's public names only, and every module imports on its own (no import cycles)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("bots", "workers", "discord", "telegram")
CORE_PACKAGES = sorted(p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists())
CORE_MODULES = sorted(p.stem for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py")


def _imports(path: Path, *, runtime_only: bool = False) -> Iterator[str]:
    """Absolute module names a file imports (with `runtime_only`, leaving out `if TYPE_CHECKING:` blocks)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _offenders(files: Iterator[Path], bad: Callable[[str], bool], *, runtime_only: bool = False) -> list[str]:
    return [f"{path.relative_to(ROOT)}: {name}" for path in files
            for name in _imports(path, runtime_only=runtime_only) if bad(name)]


def test_core_imports_nothing_platform_specific() -> None:
    offenders = _offenders((ROOT / "core").rglob("*.py"), lambda n: n.split(".")[0] in FORBIDDEN)
    assert offenders == []


def test_layout() -> None:
    for name in ("pyproject.toml", "README.md", "bots", "core", "workers", "tests", "deploy", "bench", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_core_top_level_shows_the_architecture() -> None:
    assert len(CORE_MODULES) <= 10, CORE_MODULES
    for package in ("media", "labelling", "generation", "queue", "quotas", "moderation", "ops", "service"):
        assert package in CORE_PACKAGES, package
    for package in CORE_PACKAGES:
        assert ast.get_docstring(ast.parse((ROOT / "core" / package / "__init__.py").read_text())), package


def test_features_never_import_the_service_that_assembles_them() -> None:
    below = [p for p in CORE_PACKAGES if p not in ("service", "generation")]
    files = (f for p in below for f in (ROOT / "core" / p).rglob("*.py"))
    assert _offenders(files, lambda n: n == "core.service" or n.startswith("core.service.")) == []
    # Generation (worker-only) reads how prompts name references from the chat grammar, and nothing else of it.
    generation = (ROOT / "core" / "generation").rglob("*.py")
    assert _offenders(generation, lambda n: n.startswith("core.service") and n != "core.service.grammar") == []


def test_the_contract_and_the_errors_sit_below_every_feature() -> None:
    allowed = {"core.context", "core.types", "core.clock", "core.errors"}
    files = iter([ROOT / "core" / "contract.py", ROOT / "core" / "errors.py"])
    assert _offenders(files, lambda n: n.startswith("core.") and n not in allowed, runtime_only=True) == []


def test_model_declarations_are_plain_data() -> None:
    # Bots and the service read what models can do to refuse a request before queueing: no torch, no diffusers.
    heavy = ("torch", "diffusers", "transformers", "core.generation", "core.service", "core.queue")
    offenders = _offenders((ROOT / "core" / "models").rglob("*.py"),
                           lambda n: any(n == h or n.startswith(h + ".") for h in heavy))
    assert offenders == []


def test_workers_never_reach_into_moderation() -> None:
    offenders = _offenders((ROOT / "workers").rglob("*.py"),
                           lambda n: n == "core.moderation" or n.startswith("core.moderation."))
    assert offenders == []


def test_bots_use_only_cores_public_names() -> None:
    public = {f"core.{m}" for m in CORE_MODULES} | {f"core.{p}" for p in CORE_PACKAGES if p != "generation"}
    offenders = _offenders((ROOT / "bots").rglob("*.py"), lambda n: n.startswith("core.") and n not in public)
    assert offenders == []


def test_bots_never_load_generation() -> None:
    """Not even through another module: a bot process never imports diffusers' side of core."""
    script = (
        "import sys, pkgutil, importlib, bots\n"
        "for m in pkgutil.walk_packages(bots.__path__, 'bots.'):\n"
        "    importlib.import_module(m.name)\n"
        "loaded = sorted(n for n in sys.modules if n.startswith('core.generation'))\n"
        "assert 'core.service' in sys.modules and 'bots.telegram.app' in sys.modules\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


FIRST_IMPORTS = """
import importlib, importlib.machinery, pkgutil, sys, traceback
top = sys.argv[1]
names = [m.name for m in pkgutil.walk_packages(importlib.import_module(top).__path__, top + '.')]
# Each module's code is compiled once and reused, as a .pyc would be (this may run where bytecode is never
# written, and compiling every source again for every first import was a third of the time).
codes = {}
get_code = importlib.machinery.SourceFileLoader.get_code
def cached_code(loader, fullname):
    if loader.path not in codes:
        codes[loader.path] = get_code(loader, fullname)
    return codes[loader.path]
importlib.machinery.SourceFileLoader.get_code = cached_code
failed = []
for name in names:
    for loaded in [n for n in sys.modules if n == top or n.startswith(top + '.')]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ': ' + traceback.format_exc(limit=1).splitlines()[-1])
print(len(names))
print('\\n'.join(failed))
"""


def _first_import_failures(package: str, root: Path) -> tuple[int, list[str]]:
    """How many modules `package` (under `root`) has, and those failing when each is imported first, in a
    fresh set of the package's modules (third-party modules stay loaded: they are not under test)."""
    out = subprocess.run([sys.executable, "-c", FIRST_IMPORTS, package], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    count, *failed = out.stdout.strip().split("\n")
    return int(count), [f for f in failed if f]


def test_every_core_module_imports_first() -> None:
    """Each core module imported first, in a fresh set of core modules: an import cycle fails whichever module
    of it is imported first, so this finds cycles that a fixed import order would hide."""
    count, failed = _first_import_failures("core", ROOT)
    assert count > 50  # every module was tried
    assert failed == []


def test_first_imports_find_a_cycle_only_one_order_shows(tmp_path: Path) -> None:
    # b imported first works (a finds b half-made, needs nothing of it yet); a first fails: b wants a.X too early.
    package = tmp_path / "cyc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import cyc.b\nX = 1\n")
    (package / "b.py").write_text("from cyc.a import X\n")
    (package / "c.py").write_text("import cyc.b\n")
    assert _first_import_failures("cyc", tmp_path) == (3, ["cyc.a: ImportError: cannot import name 'X' from "
                                                          "partially initialized module 'cyc.a' (most likely due "
                                                          "to a circular import) (" + str(package / "a.py") + ")"])
