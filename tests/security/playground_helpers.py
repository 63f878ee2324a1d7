"""Helpers for the playground's security tests: HTTP clients with and without the owner's credentials, a real
`reelsmith` process, which addresses a port listens on, and a headless Chromium driven over DevTools."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, CookieJar
from aiohttp.test_utils import TestServer, unused_port

from bots.web.app import WebPlayground
from core.service.facade import Reelsmith
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
LINK_RE = re.compile(r"Reelsmith playground: (http://\S+/\?token=\S+)")
EVIL = "http://evil.example"


# ---- HTTP ----------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def playground_server(service: Reelsmith) -> AsyncIterator[tuple[TestServer, WebPlayground]]:
    """The playground on a real 127.0.0.1 socket, its reply consumer running."""
    playground = WebPlayground(service)
    playground.consumer.block_ms = 50
    server = TestServer(playground.build_app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield server, playground
    finally:
        await server.close()


def session(base_url: str, headers: dict[str, str] | None = None) -> ClientSession:
    """A client like a browser or script: its own cookie jar (cookies for IP hosts kept), no credentials."""
    return ClientSession(base_url=base_url, headers=headers, cookie_jar=CookieJar(unsafe=True))


def owner_headers(playground: WebPlayground) -> dict[str, str]:
    """What the owner's scripts send."""
    return playground.access.bearer_header()


# ---- processes and sockets -----------------------------------------------------------------------
def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (Linux /proc/net; this network namespace)."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            for row in itertools.islice(rows, 1, None):
                local, state = row.split()[1], row.split()[3]
                addr_hex, port_hex = local.split(":")
                if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                    continue
                raw = bytes.fromhex(addr_hex)
                # The kernel prints each 32-bit word in host (little-endian) order.
                packed = b"".join(raw[i:i + 4][::-1] for i in range(0, width, 4))
                found.add(str(ipaddress.ip_address(packed)))
    return found


@dataclass
class ReelsmithProcess:
    """A `reelsmith ...` command running as its own process, as an owner starts it."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    web_port: int
    health_port: int
    data_dir: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def line(self, pattern: re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        async def seen() -> re.Match[str] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"reelsmith exited ({self.proc.returncode}):\n{self.output()[-3000:]}")
            return pattern.search(self.output())

        match: re.Match[str] = await wait_for(seen, timeout=timeout, interval=0.1)
        return match


@contextlib.contextmanager
def reelsmith_process(args: list[str], env: dict[str, str], workdir: Path) -> Iterator[ReelsmithProcess]:
    """Run `reelsmith <args>` in `workdir` (no .env there); SIGTERM, then kill, when the block ends."""
    web_port, health_port = unused_port(), unused_port()
    env = {"REELSMITH_WEB_PORT": str(web_port), "REELSMITH_HEALTH_PORT": str(health_port), **env}
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "reelsmith.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "reelsmith.py"), *args], cwd=workdir, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield ReelsmithProcess(proc, log_path, web_port, health_port, Path(env["REELSMITH_DATA_DIR"]))
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- a real browser ------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Headless Chromium over the DevTools protocol; each `context()` is an isolated profile (own cookies)."""

    def __init__(self, proc: asyncio.subprocess.Process, http: ClientSession, ws: ClientWebSocketResponse) -> None:
        self.proc, self.http, self.ws = proc, http, ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            future = self._waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, session_id: str | None = None, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        body: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session_id:
            body["sessionId"] = session_id
        await self.ws.send_str(json.dumps(body))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result

    async def context(self) -> str:
        """A fresh browser context: a profile with no cookies and no storage."""
        return str((await self.send("Target.createBrowserContext"))["browserContextId"])

    async def open(self, context: str, url: str) -> Tab:
        target = (await self.send("Target.createTarget", url=url, browserContextId=context))["targetId"]
        session_id = (await self.send("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        return Tab(self, str(session_id))

    async def cookies(self, context: str) -> list[dict[str, Any]]:
        cookies: list[dict[str, Any]] = (await self.send("Storage.getCookies", browserContextId=context))["cookies"]
        return cookies

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()
        await self.http.close()
        await _end(self.proc)


@dataclass
class Tab:
    browser: Browser
    session_id: str

    async def js(self, expression: str) -> Any:
        """Evaluate in the page (promises awaited) and return the value."""
        answer = await self.browser.send("Runtime.evaluate", self.session_id, expression=expression,
                                         returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise AssertionError(f"page error: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def poll(self, expression: str) -> Any:
        """Like `js`, but None while the page is between documents (its context replaced mid-call)."""
        try:
            return await self.js(expression)
        except AssertionError:
            return None

    async def navigate(self, url: str) -> None:
        await self.browser.send("Page.navigate", self.session_id, url=url)


@contextlib.asynccontextmanager
async def chromium(profile_dir: Path) -> AsyncIterator[Browser]:
    """A headless Chromium (needs the `chromium` package; scripts/setup.sh installs it when run as root)."""
    assert CHROMIUM is not None
    port_file = profile_dir / "DevToolsActivePort"
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile_dir}",
        "--remote-debugging-port=0", "about:blank",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    http = ClientSession()
    try:
        async def endpoint() -> str | None:
            lines = port_file.read_text().split() if port_file.exists() else []
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}" if len(lines) == 2 else None

        ws = await http.ws_connect(await wait_for(endpoint, timeout=30), max_msg_size=0)
    except BaseException:
        await http.close()
        await _end(proc)
        raise
    browser = Browser(proc, http, ws)
    try:
        yield browser
    finally:
        await browser.close()


async def _end(proc: asyncio.subprocess.Process) -> None:
    """Stop the browser's own process group (it forks helpers): TERM, then KILL."""
    if proc.returncode is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
