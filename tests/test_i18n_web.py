"""The playground answers in the browser's language (Accept-Language, negotiated with Babel)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

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
