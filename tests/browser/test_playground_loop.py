"""The playground's creative loop in a real headless browser (Debian's chromium over DevTools): sign in with the
one-time link, make four images, then Upscale, Vary, Zoom out, Vary (Region) with the mask brush, Edit, Animate
and Extend, each checked on the page by its pixels, sizes or length. A screenshot of the
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
SHOWN = """[...document.querySelectorAll('img[alt^="AI-generated image"], video')]
  .filter(m => (m.tagName === 'IMG' ? m.complete && m.naturalWidth > 0 : true)).length"""


def click(label: str, nth: int = -1) -> str:
    """JS pressing the `nth` button labelled `label` (the newest by default); true when there was one."""
    return f"""(() => {{
  const all = [...document.querySelectorAll('button')].filter(b => b.textContent.trim() === {label!r});
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


def shown_at_least(n: int) -> str:
    return f"({SHOWN}) >= {n} ? ({SHOWN}) : 0"


# The natural sizes of the newest single image and of the first grid's images.
NEWEST_WIDTH = """[...document.querySelectorAll('img[alt="AI-generated image"]')].at(-1).naturalWidth"""
GRID_WIDTH = """document.querySelector('.grid img').naturalWidth"""
# Whether the newest image's centre is, pixel for pixel, the image before it (a 2x zoom-out keeps its source).
CENTRE_KEPT = """(() => {
  const imgs = [...document.querySelectorAll('img[alt="AI-generated image"]')];
  const [src, out] = imgs.slice(-2);
  const read = (img, x, y, w, h) => {
    const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(x, y, w, h).data;
  };
  const w = src.naturalWidth, h = src.naturalHeight;
  const a = read(src, 0, 0, w, h), b = read(out, (out.naturalWidth - w) / 2, (out.naturalHeight - h) / 2, w, h);
  let diff = 0; for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return {w, h, ow: out.naturalWidth, oh: out.naturalHeight, diff};
})()"""
# Paint the top-left quarter of the open mask brush, name what goes there, press Repaint.
BRUSH = """(() => {
  const paint = document.querySelector('.brush canvas'); if (!paint) return false;
  const r = paint.getBoundingClientRect();
  const at = (type, fx, fy) => paint.dispatchEvent(new PointerEvent(type, {bubbles: true,
    clientX: r.left + fx * r.width, clientY: r.top + fy * r.height}));
  at('pointerdown', 0.05, 0.05);
  for (let i = 0; i <= 20; i++) for (let j = 0; j <= 20; j++) at('pointermove', 0.02 + i * 0.02, 0.02 + j * 0.02);
  window.dispatchEvent(new PointerEvent('pointerup'));
  document.querySelector('.brush input').value = 'a red kite';
  [...document.querySelectorAll('.brush button')].find(b => b.textContent === 'Repaint').click();
  return true;
})()"""
# How far a band of the newest image below the painted area (above where the new badge goes) is from the image
# before it (0: kept exactly).
BOTTOM_KEPT = """(() => {
  const [src, out] = [...document.querySelectorAll('img[alt="AI-generated image"]')].slice(-2);
  const read = (img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth;
    c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    return g.getImageData(0, img.naturalHeight / 2, img.naturalWidth, img.naturalHeight / 4).data; };
  const a = read(src), b = read(out); let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return [src.naturalWidth === out.naturalWidth, diff];
})()"""
# Button rows under the newest result.
NEWEST_ROWS = """[...document.querySelectorAll('.msg')].at(-1).querySelectorAll('.buttons').length"""
# Clip lengths in seconds, once their metadata has loaded (0 until then).
DURATIONS = """[...document.querySelectorAll('video')].map(v => v.readyState >= 1 ? v.duration : 0)"""


async def test_the_loop_in_a_real_browser(service: Reelsmith, worker: Any, tmp_path: Path) -> None:
    async with playground_server(service) as (server, playground), chromium(tmp_path / "chromium") as browser:
        link = f"http://127.0.0.1:{server.port}/?token={playground.access.new_link_nonce()}"
        tab = await browser.open(await browser.context(), link)
        assert await wait_for(lambda: tab.poll("location.pathname === '/' && !!document.getElementById('form')"))
        # Four images of one prompt, in a grid.
        await send(tab, "/imagine a lighthouse at dusk --n 4 --seed 7")
        assert await wait_for(lambda: tab.poll(shown_at_least(4)), timeout=90) == 4
        assert await tab.js("document.querySelectorAll('.grid img').length") == 4
        # U2 upscales the second image 2x; V3 varies the third; each result appears on the page.
        assert await tab.js(click("U2"))
        assert await wait_for(lambda: tab.poll(shown_at_least(5)), timeout=90) == 5
        assert await tab.js(NEWEST_WIDTH) == 2 * await tab.js(GRID_WIDTH)
        assert await tab.js(click("V3"))
        assert await wait_for(lambda: tab.poll(shown_at_least(6)), timeout=90) == 6
        assert await tab.js(NEWEST_ROWS) == 4  # one image: make, canvas, pan and manage rows
        # Zoom out 2x: twice the size, the variation kept exactly in the centre.
        assert await tab.js(click("Zoom out 2x"))
        assert await wait_for(lambda: tab.poll(shown_at_least(7)), timeout=90) == 7, "zoom"
        kept = await tab.js(CENTRE_KEPT)
        assert (kept["ow"], kept["oh"]) == (2 * kept["w"], 2 * kept["h"]) and kept["diff"] == 0, kept
        # Vary (Region): paint the top-left quarter in the brush; the repaint keeps the rest exactly.
        assert await tab.js(click("Vary (Region)"))
        assert await wait_for(lambda: tab.poll("!!document.querySelector('.brush canvas')"), timeout=30)
        assert await tab.js(BRUSH)
        assert await wait_for(lambda: tab.poll(shown_at_least(8)), timeout=90) == 8, "region"
        assert await tab.js(BOTTOM_KEPT) == [True, 0]
        # Edit fills the input box with the command that made it.
        assert await tab.js(click("Edit"))
        prefill = await wait_for(lambda: tab.poll("document.getElementById('text').value"), timeout=30)
        assert prefill.startswith("/edit "), prefill
        await tab.js("document.getElementById('text').value = ''; true")
        # Animate the repainted image, then Extend the clip.
        assert await tab.js(click("Animate"))
        assert await wait_for(lambda: tab.poll(shown_at_least(9)), timeout=90) == 9, "animate"
        assert await tab.js(click("Extend"))
        durations = await wait_for(lambda: tab.poll(f"(d => d.length === 2 && d.every(x => x > 0) ? d : null)"
                                                    f"({DURATIONS})"), timeout=90)
        assert durations[1] > durations[0], durations  # the extended clip is longer than its source
        path = await screenshot(tab, "playground-loop.png")
        assert len(path.read_bytes()) > 1000  # noqa: ASYNC240 (a small local file, once)
