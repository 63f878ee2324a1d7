"""`reelsmith` as an owner starts it: what it binds, what it prints, what its ports give away, and the
one-click sign-in in a real headless browser against a real worker.

The playground runs as `reelsmith bot web` (the command compose and Kubernetes run; `reelsmith run` starts
it through the same code) and the worker in-process on the suite's warm tiny pipelines, to stay fast."""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import unused_port
from pydantic import SecretStr

from bots.web.app import serve
from core.ops.config_check import static_problems
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import process_env, wait_for
from tests.security.playground_helpers import (
    CHROMIUM,
    LINK_RE,
    ReelsmithProcess,
    chromium,
    listening_addresses,
    reelsmith_process,
    stop,
)

STARTED_RE = re.compile(r"Reelsmith playground: (\S+)")
GOOD_TOKEN = SecretStr("0123456789abcdef0123456789abcdef")


@pytest.fixture
def web_bot(settings: Settings, tiny_dir: Path, tmp_path: Path) -> Iterator[ReelsmithProcess]:
    """`reelsmith bot web` with the default hosts, on the test's Redis and key prefix."""
    with reelsmith_process(["bot", "web"], process_env(settings, tiny_dir, tmp_path / "data"), tmp_path / "web") as p:
        yield p


async def test_health_servers_bind_loopback_by_default(web_bot: ReelsmithProcess, settings: Settings,
                                                       tiny_dir: Path, tmp_path: Path) -> None:
    # This is about sockets: the worker loads no model families (warming them only costs CPU here).
    env = process_env(settings, tiny_dir, tmp_path / "worker-data", REELSMITH_WORKER_FAMILIES="[]")
    with reelsmith_process(["worker"], env, tmp_path / "worker") as worker:
        await web_bot.line(STARTED_RE)  # the playground is up; its health server starts right after
        for proc, role, wait_s in ((web_bot, "web", 15), (worker, "worker", 60)):
            async def listening(proc: ReelsmithProcess = proc) -> set[str]:
                assert proc.proc.poll() is None, proc.output()[-3000:]
                return listening_addresses(proc.health_port)

            assert await wait_for(listening, timeout=wait_s) == {"127.0.0.1"}, proc.output()[-2000:]
            async with ClientSession() as http, http.get(f"http://127.0.0.1:{proc.health_port}/livez") as resp:
                assert resp.status == 200 and (await resp.json())["role"] == role  # probes need no token here


async def test_start_up_prints_a_sign_in_link_and_guards_metrics(web_bot: ReelsmithProcess) -> None:
    line = (await web_bot.line(STARTED_RE)).group(0)
    link = rf"http://127\.0\.0\.1:{web_bot.web_port}/\?token=[\w-]{{20,}}"
    assert re.fullmatch(f"Reelsmith playground: {link}", line), line
    token_file = web_bot.data_dir / "web_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert token not in web_bot.output()  # only the one-time link is printed, never the secret
    web = f"http://127.0.0.1:{web_bot.web_port}"
    async with ClientSession() as http:
        for path in ("/metrics", "/healthz"):
            async with http.get(web + path) as resp:
                assert resp.status == 401, path
        async with http.get(web + "/metrics", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200 and "reelsmith_queue_depth" in await resp.text()


@pytest.mark.parametrize("command", [["bot", "web"], ["run"]])
def test_a_public_bind_without_a_token_refuses_to_start(command: list[str], settings: Settings, tiny_dir: Path,
                                                        tmp_path: Path) -> None:
    env = process_env(settings, tiny_dir, tmp_path / "data", REELSMITH_WEB_HOST="0.0.0.0")
    with reelsmith_process(command, env, tmp_path / "cwd") as proc:
        try:
            code = proc.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop(proc.proc)
            raise AssertionError(f"started on 0.0.0.0 without a token:\n{proc.output()[-2000:]}") from None
        out = proc.output()
        assert code != 0 and "REELSMITH_WEB_TOKEN is not set" in out and "0.0.0.0" in out, out[-2000:]
        assert "Reelsmith playground:" not in out and listening_addresses(proc.web_port) == set()
    public = settings.model_copy(update={"web_host": "0.0.0.0"})
    assert static_problems(public.model_copy(update={"web_token": GOOD_TOKEN}), {}, bots=["web"]) == []
    example = SecretStr("replace-me-with-openssl-rand-hex-32")  # deploy/k8s/secret.example.yaml's
    [placeholder] = static_problems(public.model_copy(update={"web_token": example}), {}, bots=["web"])
    assert "REELSMITH_WEB_TOKEN must be at least 16 characters and not the example's placeholder" in placeholder


async def test_serve_itself_refuses_a_public_address_without_a_token(service: Reelsmith) -> None:
    with pytest.raises(SystemExit, match="REELSMITH_WEB_TOKEN is not set"):
        await serve(service, "0.0.0.0", unused_port())


IMAGE_SHOWN = """(() => {
  const img = [...document.querySelectorAll('img[alt="AI-generated image"]')]
    .find(i => i.complete && i.naturalWidth > 0);
  return img ? img.parentElement.firstChild.textContent : null;
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/setup.sh installs it when root)")
async def test_the_owner_signs_in_with_one_click_in_a_real_browser(web_bot: ReelsmithProcess, worker: Any,
                                                                   tmp_path: Path) -> None:
    started = (await web_bot.line(STARTED_RE)).group(0)
    printed = LINK_RE.search(started)
    assert printed, started
    link = printed.group(1)
    base = f"http://127.0.0.1:{web_bot.web_port}"
    async with chromium(tmp_path / "chromium") as browser:
        owner = await browser.context()
        tab = await browser.open(owner, link)
        # One click: the link signs in and lands on / with no token left in the address bar.
        assert await wait_for(lambda: tab.poll(
            "location.search === '' && location.pathname === '/' && !!document.getElementById('form')"))
        [cookie] = [c for c in await browser.cookies(owner) if c["name"].startswith("reelsmith_")]
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert await tab.js("document.cookie") == ""  # page scripts cannot read it
        await tab.js("document.getElementById('text').value = '/imagine a red fox';"
                     "document.getElementById('form').requestSubmit(); true")
        caption = await wait_for(lambda: tab.poll(IMAGE_SHOWN), timeout=90)
        assert caption.startswith("\U0001f916 AI-generated with Reelsmith"), caption

        stranger = await browser.context()  # a second profile: no cookie, and the link is spent
        other = await browser.open(stranger, base + "/")
        text = await wait_for(lambda: other.poll("document.readyState === 'complete' && document.body.innerText"))
        assert "sign in" in text.lower() and not await other.js("!!document.getElementById('form')")
        assert await other.js("fetch('/api/messages?chat=x').then(r => r.status)") == 401
        await other.navigate(link)
        text = await wait_for(lambda: other.poll("location.search !== '' && document.body.innerText"))
        assert "already used" in text
        assert not [c for c in await browser.cookies(stranger) if c["name"].startswith("reelsmith_")]
