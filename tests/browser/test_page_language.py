"""The playground page in a real headless browser set to German: the page's own texts, and those its script
writes under a result, come from the German catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.security.playground_helpers import CHROMIUM, chromium, playground_server

pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="needs Debian's chromium (scripts/setup.sh installs it when root)")

RESULT = """(() => { const img = [...document.querySelectorAll('.msg img')].at(-1);
  if (!img || !img.complete || !img.naturalWidth) return null;
  return {alt: img.alt, link: img.parentElement.querySelector('a[download]').textContent}; })()"""


async def test_the_page_in_a_german_browser(service: Reelsmith, worker: Any, tmp_path: Path) -> None:
    async with playground_server(service) as (server, playground), chromium(tmp_path / "chromium") as browser:
        tab = await browser.open(await browser.context(), "about:blank")
        agent = (await browser.send("Browser.getVersion"))["userAgent"]
        # What a browser set to German sends (and reports as navigator.languages).
        await browser.send("Emulation.setUserAgentOverride", tab.session_id, userAgent=agent,
                           acceptLanguage="de-DE,de")
        await tab.navigate(f"http://127.0.0.1:{server.port}/?token={playground.access.new_link_nonce()}")
        assert await wait_for(lambda: tab.poll("location.pathname === '/' && !!document.getElementById('form')"))
        assert await tab.js("document.documentElement.lang") == "de"
        assert await tab.js("document.querySelector('button[type=submit]').textContent") == "Senden"
        await tab.js("document.getElementById('text').value = '/imagine ein Leuchtturm --seed 5';"
                     "document.getElementById('form').requestSubmit(); true")
        shown = await wait_for(lambda: tab.poll(RESULT), timeout=90)
        assert shown["alt"] == "AI-generiertes Bild"
        assert shown["link"].startswith("reelsmith-") and shown["link"].endswith(".png herunterladen")
