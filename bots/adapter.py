"""The Adapter contract: what a chat platform's package declares so `reelsmith` can find, start and stop it.

Each package under `bots/` that is an adapter has a `run` module with one `ADAPTER`: its name (the
`reelsmith bot <name>` argument), the setting whose presence turns it on in `reelsmith run` (its token;
none for the playground, which always runs), and how to start it. Starting returns something to stop.
`discover()` finds them, so the CLI never lists platforms; an adapter whose platform library is not
installed is left out.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from core.service import Reelsmith
from core.settings import Settings

log = logging.getLogger(__name__)

ADAPTER_MODULE = "run"  # bots/<name>/run.py declares ADAPTER


class Running(Protocol):
    """A started adapter."""

    async def stop(self) -> None: ...


Starter = Callable[[Reelsmith], Awaitable[Running]]


@dataclass(frozen=True)
class Adapter:
    """One chat platform's adapter, as the CLI sees it."""

    name: str
    start: Starter
    token_setting: str | None = None  # the Settings field that turns it on in `reelsmith run`; None: always on

    def enabled(self, settings: Settings) -> bool:
        """Whether `reelsmith run` starts it with these settings."""
        return self.token_setting is None or getattr(settings, self.token_setting) is not None


def discover() -> dict[str, Adapter]:
    """Every adapter under `bots/` whose platform library is installed, by name (the playground first)."""
    import bots

    found: dict[str, Adapter] = {}
    for info in sorted(pkgutil.iter_modules(bots.__path__), key=lambda i: (i.name != "web", i.name)):
        if not info.ispkg:
            continue
        module_name = f"bots.{info.name}.{ADAPTER_MODULE}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # a package of shared code, not an adapter
            if exc.name is None or exc.name.split(".")[0] in ("bots", "core"):
                raise  # our own code is broken: never hide that as "not installed"
            log.info("the %s adapter needs %s, which is not installed; leaving it out", info.name, exc.name)
            continue
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, Adapter):
            found[adapter.name] = adapter
    return found
