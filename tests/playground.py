"""Driving the web playground over HTTP in tests: send a command (with files), wait for a job's message."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from tests.conftest import wait_for


async def send(client: TestClient[Any, Any], chat: str, text: str,
               files: list[tuple[str, bytes]] | list[tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
    """POST a command like the page does; files are (name, bytes) or (name, bytes, declared mime)."""
    form = FormData()
    form.add_field("chat", chat)
    form.add_field("text", text)
    for name, data, *mime in files or []:
        form.add_field("files", data, filename=name,
                       content_type=mime[0] if mime else "application/octet-stream")
    resp = await client.post("/api/command", data=form)
    assert resp.status == 200
    return dict(await resp.json())


async def finished(client: TestClient[Any, Any], chat: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """The job's chat message once it is done (result or error)."""
    async def done() -> dict[str, Any] | None:
        resp = await client.get("/api/messages", params={"chat": chat})
        for m in (await resp.json())["messages"]:
            if m.get("job_id") == job_id and m.get("done"):
                return dict(m)
        return None

    return dict(await wait_for(done, timeout=timeout))
