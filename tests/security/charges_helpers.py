"""Helpers for the resources-and-charges tests: what a member has stored and been charged, read from Redis."""

from __future__ import annotations

import io
import random
from typing import Any

from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from core.quotas.book import QuotaBook, Usage
from core.service.facade import Reelsmith
from tests.playground import finished, send


def noise_png(seed: int, size: int = 96) -> bytes:
    """A PNG that does not compress (so its size is predictable), different for each seed."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


async def blob_ids(service: Reelsmith) -> set[str]:
    """Every blob in Redis under this test's prefix (attachments and results)."""
    prefix = service.settings.key("blob", "")
    return {k.decode()[len(prefix):] async for k in service.redis.scan_iter(match=prefix + "*", count=1000)}


async def usage(service: Reelsmith, chat: str) -> Usage:
    """A playground member's credits (the playground's user id is its chat id)."""
    return await QuotaBook(service.redis, service.settings).usage("web", chat)


async def stored_bytes(service: Reelsmith, chat: str) -> int:
    """Bytes a playground member has counted against their storage budget."""
    members = await service.redis.zrange(service.settings.key("blob-bytes", f"web:{chat}"), 0, -1)
    return sum(int(m.decode().rsplit("|", 1)[1]) for m in members)


async def post_command(client: TestClient[Any, Any], chat: str, text: str,
                       files: list[tuple[str, bytes]]) -> ClientResponse:
    """POST a command with files like the page does, whatever the answer's status."""
    form = FormData()
    form.add_field("chat", chat)
    form.add_field("text", text)
    for name, data in files:
        form.add_field("files", data, filename=name, content_type="application/octet-stream")
    return await client.post("/api/command", data=form)


async def job_reply(client: TestClient[Any, Any], chat: str, text: str,
                    files: list[tuple[str, bytes]] | None = None, timeout: float = 60) -> dict[str, Any]:
    """Send a command that queues a job and wait for the job's final message."""
    sent = await send(client, chat, text, files)
    assert sent["ok"] and sent["job_id"], sent
    return await finished(client, chat, sent["job_id"], timeout=timeout)


async def job_messages(client: TestClient[Any, Any], chat: str, job_id: str) -> list[dict[str, Any]]:
    resp = await client.get("/api/messages", params={"chat": chat})
    return [m for m in (await resp.json())["messages"] if m.get("job_id") == job_id]
