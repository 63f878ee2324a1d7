"""The playground's creative loop in a real headless browser (Debian's chromium over DevTools): sign in with the
one-time link, make an image, press the result buttons and get new results on the page. A screenshot of the
page at the end is kept under test-artifacts/ (or $REELSMITH_TEST_ARTIFACTS) for people to look at."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.security.playground_helpers import CHROMIUM, Tab, chromium, playground_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("REELSMITH_TEST_ARTIFACTS", ROOT / "test-artifacts"))

pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="needs Debian's chromium (scripts/setup.sh installs it when root)")

# How many results (images or videos) the page shows, loaded.
SHOWN = """[...document.querySelectorAll('img[alt="AI-generated image"], video')]
  .filter(m => (m.tagName === 'IMG' ? m.complete && m.naturalWidth > 0 : true)).length"""


def click(label: str, nth: int = -1) -> str:
    """JS pressing the `nth` button labelled `label` (the newest by default); true when there was one."""
    return f"""(() => {{
  const all = [...document.querySelectorAll('button')].filter(b => b.textContent.trim().endsWith({label!r}));
  const b = all.at({nth}); if (!b) return false; b.click(); return true;
}})()"""


async def send(tab: Tab, text: str) -> None:
    await tab.js(f"document.getElementById('text').value = {text!r};"
                 "document.getElementById('form').requestSubmit(); true")


def _save(name: str, data: bytes) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(data)
    return path


async def screenshot(tab: Tab, name: str) -> Path:
    """The whole page as a PNG under ARTIFACTS."""
    shot = await tab.browser.send("Page.captureScreenshot", tab.session_id, format="png", captureBeyondViewport=True)
    return _save(name, base64.b64decode(shot["data"]))


async def test_the_loop_in_a_real_browser(service: Reelsmith, worker: Any, tmp_path: Path) -> None:
    async with playground_server(service) as (server, playground), chromium(tmp_path / "chromium") as browser:
        link = f"http://127.0.0.1:{server.port}/?token={playground.access.new_link_nonce()}"
        tab = await browser.open(await browser.context(), link)
        assert await wait_for(lambda: tab.poll("location.pathname === '/' && !!document.getElementById('form')"))
        await send(tab, "/imagine a lighthouse at dusk --seed 7")
        assert await wait_for(lambda: tab.poll(SHOWN), timeout=90) == 1
        # Each result button queues a new job whose result appears on the page.
        for n, label in enumerate(("Variations", "Reroll", "Animate"), start=2):
            assert await tab.js(click(label, nth=0)), label
            assert await wait_for(lambda n=n: tab.poll(f"({SHOWN}) >= {n} ? ({SHOWN}) : 0"), timeout=90) == n
        assert await tab.js("document.querySelectorAll('video').length") == 1  # Animate made a clip
        path = await screenshot(tab, "playground-loop.png")
        assert len(path.read_bytes()) > 1000  # noqa: ASYNC240 (a small local file, once)
