"""The playground answers in the browser's language (Accept-Language, negotiated with Babel)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestClient

from bots.web.app import SERVICE_KEY
from core.queue.replies import ReplyBus
from core.service.facade import Reelsmith
from core.types import DeleteResult
from tests.conftest import wait_for
from tests.playground import finished

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.6"}


async def command(client: TestClient[Any, Any], chat: str, text: str, headers: dict[str, str]) -> dict[str, Any]:
    resp = await client.post("/api/command", json={"chat": chat, "text": text}, headers=headers)
    assert resp.status == 200
    return dict(await resp.json())


async def test_playground_in_german(web_client: TestClient[Any, Any], worker: Any) -> None:
    help_de = await command(web_client, "chatDE", "/help", GERMAN)
    assert "/imagine <prompt> - ein Bild aus Text" in help_de["message"]["text"]
    sent = await command(web_client, "chatDE", "/imagine ein roter Fuchs --seed 3", GERMAN)
    assert sent["message"]["text"].startswith("\u23f3 In der Warteschlange (Position")
    assert [b["label"] for b in sent["message"]["buttons"]] == ["Abbrechen"]
    msg = await finished(web_client, "chatDE", sent["job_id"])
    assert msg["text"].startswith("\U0001f916 AI-generiert mit Reelsmith") and "Seed 3" in msg["text"]
    assert "\u201cein roter Fuchs\u201d" in msg["text"]
    assert {"Neu würfeln", "Varianten", "Animieren", "Melden"} <= {b["label"] for b in msg["buttons"]}


async def test_playground_without_a_shipped_language_reads_english(web_client: TestClient[Any, Any]) -> None:
    sent = await command(web_client, "chatFR", "/help", {"Accept-Language": "fr-FR,fr;q=0.9"})
    assert sent["message"]["text"].startswith("Reelsmith makes AI images")


def script_texts(page: str) -> dict[str, str]:
    """The JSON of texts the page's script writes, as the page carries it."""
    opening = '<script id="texts" type="application/json">'
    start = page.index(opening) + len(opening)
    return dict(json.loads(page[start:page.index("</script>", start)]))


async def test_the_page_itself_in_german(web_client: TestClient[Any, Any]) -> None:
    resp = await web_client.get("/", headers=GERMAN)
    page = await resp.text()
    assert resp.status == 200 and "Accept-Language" in resp.headers.get("Vary", "")
    assert '<html lang="de">' in page and "<title>Reelsmith-Playground</title>" in page
    assert '<button type="submit">Senden</button>' in page and 'aria-label="Dateien anhängen"' in page
    assert "Probier <code>/imagine a red fox</code>, <code>/video a red fox running</code>, häng ein Bild an" in page
    texts = script_texts(page)
    assert texts["repaint"] == "Neu malen" and texts["download_name"] == "{name} herunterladen"
    assert texts["image_n"] == "AI-generiertes Bild {n}"


async def test_the_page_reads_english_without_a_shipped_language(web_client: TestClient[Any, Any]) -> None:
    for headers in ({"Accept-Language": "fr-FR,fr;q=0.9"}, {}):
        page = await (await web_client.get("/", headers=headers)).text()
        assert '<html lang="en">' in page and '<button type="submit">Send</button>' in page
        assert "Try <code>/imagine a red fox</code>" in page and "$" not in page
        assert script_texts(page)["repaint"] == "Repaint"


async def test_a_removed_result_reads_in_its_authors_language(web_client: TestClient[Any, Any], worker: Any,
                                                              service: Reelsmith) -> None:
    sent = await command(web_client, "chatRU", "/imagine лиса --seed 2", {"Accept-Language": "ru-RU,ru"})
    await finished(web_client, "chatRU", sent["job_id"])
    # A deletion carries no locale: the playground takes the author's from the stored request.
    await ReplyBus(service.redis, service.settings).publish_delete(DeleteResult(platform="web", job_id=sent["job_id"]))

    async def removed() -> dict[str, Any] | None:
        messages = (await (await web_client.get("/api/messages", params={"chat": "chatRU"})).json())["messages"]
        return next((m for m in messages if m.get("job_id") == sent["job_id"] and not m["media"]), None)

    msg = await wait_for(removed)
    assert msg["text"] == "\U0001f5d1\ufe0f Этот результат удалил модератор или его автор." and msg["buttons"] == []


async def test_the_sign_in_page_in_the_browsers_language(web_client: TestClient[Any, Any]) -> None:
    async with ClientSession() as stranger:  # no credentials: the sign-in page
        page = await stranger.get(web_client.make_url("/"), headers=GERMAN)
        text = await page.text()
        assert page.status == 401 and '<html lang="de">' in text
        assert "Du bist nicht angemeldet (oder deine Sitzung ist abgelaufen)." in text
        assert "<code>docker compose logs playground</code> / <code>kubectl logs</code>" in text
        assert '<button type="submit">Anmelden</button>' in text
        wrong = await stranger.post(web_client.make_url("/login"), data={"token": "guess"},
                                    headers={**GERMAN, "Origin": str(web_client.make_url("")).rstrip("/")})
        assert wrong.status == 401 and "Das ist nicht das Zugangstoken dieses Playgrounds." in await wrong.text()
        english = await (await stranger.get(web_client.make_url("/"))).text()
        assert "You are not signed in (or your session has ended)." in english and "$" not in english
        nonce = web_client.server.app[SERVICE_KEY].access.new_link_nonce()
        done = await stranger.get(web_client.make_url(f"/?token={nonce}"), headers=GERMAN)
        text = await done.text()
        assert done.status == 200 and "Angemeldet. Der Playground wird geöffnet…" in text and 'lang="de"' in text
