"""The playground over real HTTP: strangers, rebinding pages and other sites get nothing; the owner gets in."""

from __future__ import annotations

import io
import re
from typing import Any

from aiohttp.test_utils import unused_port
from PIL import Image

from bots.web.app import serve
from core.ops.config_check import static_problems
from core.service import button_data
from core.service.facade import Reelsmith
from core.service.features import build_service
from core.settings import Settings
from tests.security.playground_helpers import EVIL, owner_headers, playground_server, session


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


async def _refused(resp: Any, status: int, words: str) -> None:
    assert resp.status == status, (resp.status, await resp.text())
    body = await resp.json()
    assert body["ok"] is False and words in body["error"], body


async def test_strangers_get_401_on_every_api_media_and_metrics(service: Reelsmith) -> None:
    blob = await service.blobs.put(_png(), "image/png")
    async with playground_server(service) as (server, playground):
        base = str(server.make_url("/"))
        async with session(base) as stranger:
            await _refused(await stranger.post("/api/command", json={"chat": "c1", "text": "/mod pause"}),
                           401, "Sign in first")
            await _refused(await stranger.post("/api/button", json={"chat": "review", "data": button_data(
                "ban", "0123abcd")}), 401, "Sign in first")
            await _refused(await stranger.get("/api/messages", params={"chat": "c1"}), 401, "Sign in first")
            await _refused(await stranger.get(f"/media/{blob}"), 401, "Sign in first")
            for path in ("/metrics", "/healthz", "/livez"):
                await _refused(await stranger.get(path), 401, "Authorization: Bearer")
            page = await stranger.get("/")
            assert page.status == 401 and "sign in" in (await page.text()).lower()
            assert "reelsmith-chat" not in await page.text()  # the console's script is not served
        async with session(base, {"Authorization": "Bearer not-the-token"}) as guesser:
            await _refused(await guesser.get("/api/messages", params={"chat": "c1"}), 401, "Sign in first")
        async with session(base, owner_headers(playground)) as owner:
            listed = await owner.get("/api/messages", params={"chat": "c1"})
            assert listed.status == 200 and (await listed.json())["messages"] == []  # the stranger left no trace
            media = await owner.get(f"/media/{blob}")
            assert media.status == 200 and await media.read() == _png()
            assert media.headers["X-Content-Type-Options"] == "nosniff"
            metrics = await owner.get("/metrics")
            assert metrics.status == 200 and "reelsmith_queue_depth" in await metrics.text()


async def test_a_rebound_host_name_is_refused(settings: Settings, service: Reelsmith) -> None:
    async with playground_server(service) as (server, playground):
        port = server.port
        async with session(str(server.make_url("/"))) as stranger:
            # A DNS-rebinding page reaches 127.0.0.1 under its own name.
            resp = await stranger.get("/api/messages", params={"chat": "c1"}, headers={"Host": f"evil.example:{port}"})
            await _refused(resp, 403, "REELSMITH_WEB_PUBLIC_HOSTS")
        async with session(str(server.make_url("/")), owner_headers(playground)) as owner:
            for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}",
                         f"x@127.0.0.1:{port}"):
                resp = await owner.post("/api/command", json={"chat": "c1", "text": "/help"}, headers={"Host": host})
                await _refused(resp, 403, "answers only at")
            for host in (f"localhost:{port}", f"[::1]:{port}", "127.0.0.1:9999", "localhost"):
                resp = await owner.get("/api/messages", params={"chat": "c1"}, headers={"Host": host})
                assert resp.status == 200, (host, await resp.text())
    # Behind a proxy: the configured public name, and only it, is answered too.
    proxied = build_service(settings.model_copy(update={"web_public_hosts": ["reelsmith.example.org"]}), service.redis)
    async with playground_server(proxied) as (server, playground):
        async with session(str(server.make_url("/")), owner_headers(playground)) as owner:
            ok = await owner.get("/api/messages", params={"chat": "c1"}, headers={"Host": "reelsmith.example.org"})
            assert ok.status == 200
            other = await owner.get("/api/messages", params={"chat": "c1"}, headers={"Host": "other.example.org"})
            assert other.status == 403
    # A URL where a name belongs is caught at start-up, not silently ignored.
    [problem] = static_problems(settings.model_copy(update={"web_public_hosts": ["https://x.example.org/"]}), {},
                               bots=["web"])
    assert problem.startswith("REELSMITH_WEB_PUBLIC_HOSTS: 'https://x.example.org/' is not a host name")


async def test_cross_origin_text_plain_json_is_refused(service: Reelsmith) -> None:
    body = '{"chat": "c1", "data": "rs:reroll:0123abcd"}'
    async with playground_server(service) as (server, playground):
        base = str(server.make_url("/"))
        own_origin = f"http://127.0.0.1:{server.port}"
        plain = {"Content-Type": "text/plain", "Origin": EVIL}
        async with session(base) as other_site:
            # What a page on another site can send without a CORS preflight.
            await _refused(await other_site.post("/api/button", data=body, headers=plain), 403, "another site")
        async with session(base) as browser:
            # The owner's browser, signed in, visited by another site (or another port: cookies ignore ports).
            assert (await browser.get(f"/?token={playground.access.new_link_nonce()}")).status == 200
            await _refused(await browser.post("/api/button", data=body, headers=plain), 403, "another site")
            await _refused(await browser.post("/api/command", data={"chat": "c1", "text": "/mod pause"},
                                              headers={"Origin": f"http://localhost:{unused_port()}"}),
                           403, "another site")
            await _refused(await browser.post("/api/command", json={"chat": "c1", "text": "/mod pause"},
                                              headers={"Sec-Fetch-Site": "same-site"}), 403, "another page")
            # A cookie alone, with no Origin, is not enough to change anything.
            await _refused(await browser.post("/api/command", json={"chat": "c1", "text": "/mod pause"}),
                           403, "no Origin")
            # Same origin, but JSON must say it is JSON.
            await _refused(await browser.post("/api/button", data=body, headers={
                "Content-Type": "text/plain", "Origin": own_origin}), 415, "application/json")
            listed = await browser.get("/api/messages", params={"chat": "c1"})
            assert (await listed.json())["messages"] == []  # none of it reached the service
            ok = await browser.post("/api/command", json={"chat": "c1", "text": "/help"},
                                    headers={"Origin": own_origin})
            assert ok.status == 200 and (await ok.json())["ok"]
        async with session(base, owner_headers(playground)) as script:
            await _refused(await script.post("/api/button", data=body, headers={"Content-Type": "text/plain"}),
                           415, "application/json")


async def test_the_sign_in_link_sets_a_strict_httponly_cookie_once(service: Reelsmith) -> None:
    port = unused_port()
    served = await serve(service, "127.0.0.1", port)
    try:
        link = served.sign_in_url
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/\?token=[A-Za-z0-9_-]{{20,}}", link), link
        nonce = link.split("token=")[1]
        base = f"http://127.0.0.1:{port}"
        async with session(base) as browser:
            resp = await browser.get(link, allow_redirects=False)
            assert resp.status == 200
            [cookie] = resp.headers.getall("Set-Cookie")
            attrs = [a.strip().lower() for a in cookie.split(";")]
            assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs, cookie
            assert nonce not in cookie and nonce not in await resp.text()
            assert 'location.replace("/")' in await resp.text()  # on to / without the token in the URL
            assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
            page = await browser.get("/")
            assert page.status == 200 and "reelsmith-chat" in await page.text()
            sent = await browser.post("/api/command", json={"chat": "c1", "text": "/help"}, headers={"Origin": base})
            assert sent.status == 200 and "/imagine" in (await sent.json())["message"]["text"]
            listed = await browser.get("/api/messages", params={"chat": "c1"})
            assert [m["role"] for m in (await listed.json())["messages"]] == ["user", "bot"]
        async with session(base) as second:
            again = await second.get(link)
            assert again.status == 401 and "already used" in await again.text()
            assert not second.cookie_jar.filter_cookies(base)  # type: ignore[arg-type]
            assert (await second.get("/api/messages", params={"chat": "c1"})).status == 401
        async with session(base) as pasted:
            # The sign-in page's form takes the long-lived token instead (never put in a URL).
            wrong = await pasted.post("/login", data={"token": "wrong"}, headers={"Origin": base})
            assert wrong.status == 401 and "not this playground" in await wrong.text()
            token = served.playground.access.token
            assert (await pasted.post("/login", data={"token": token}, headers={"Origin": EVIL})).status == 403
            right = await pasted.post("/login", data={"token": token}, headers={"Origin": base})
            assert right.status == 200 and (await pasted.get("/api/messages", params={"chat": "c1"})).status == 200
    finally:
        await served.runner.cleanup()

