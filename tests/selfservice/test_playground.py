"""Self-service through the playground: Cancel on the status message, Edit fills the input box, Delete removes
the result, /history lists it with working buttons."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.service.facade import Reelsmith
from tests.conftest import wait_for
from tests.playground import finished, send


async def _press(client: TestClient[Any, Any], chat: str, data: str) -> dict[str, Any]:
    resp = await client.post("/api/button", json={"chat": chat, "data": data})
    assert resp.status == 200
    return dict(await resp.json())


def _button(message: dict[str, Any], label: str) -> str:
    return next(str(b["data"]) for b in message.get("buttons", []) if b["label"] == label)


async def test_cancel_on_the_status_message(web_client: TestClient[Any, Any], service: Reelsmith) -> None:
    queued = await send(web_client, "c1", "/imagine a fox")  # no worker: it waits
    cancel = _button(queued["message"], "Cancel")
    answer = await _press(web_client, "c1", cancel)
    assert answer["ok"] and "taken off the queue" in answer["message"]["text"]
    status = await finished(web_client, "c1", queued["job_id"], timeout=20)
    assert "cancelled" in status["text"] and status["buttons"] == []  # the error replaced it, Cancel gone
    again = await _press(web_client, "c1", cancel)
    assert not again["ok"] and "already cancelled" in again["message"]["text"]


async def test_edit_delete_and_history(web_client: TestClient[Any, Any], service: Reelsmith, worker: Any) -> None:
    queued = await send(web_client, "c2", "/imagine a red fox --seed 7 --steps 1")
    result = await finished(web_client, "c2", queued["job_id"])
    assert result["media"] and not result["error"]

    edit = await _press(web_client, "c2", _button(result, "Edit"))
    assert edit["ok"] and edit["prefill"].startswith("/imagine a red fox --seed 7 --steps 1")

    history = await send(web_client, "c2", "/history")
    assert "1. /imagine a red fox" in history["message"]["text"]
    delete = _button(history["message"], "Delete 1")
    assert (await _press(web_client, "c2", delete))["ok"]

    async def removed() -> bool:
        resp = await web_client.get("/api/messages", params={"chat": "c2"})
        msg = next(m for m in (await resp.json())["messages"] if m.get("job_id") == queued["job_id"])
        return "removed" in msg["text"] and msg["media"] == [] and msg["buttons"] == []
    assert await wait_for(removed, timeout=20)
    blob = result["media"][0]["url"].rsplit("/", 1)[-1]
    assert await service.media(blob) is None
    assert (await web_client.get(result["media"][0]["url"])).status == 404
    assert "no results here" in (await send(web_client, "c2", "/history"))["message"]["text"]
