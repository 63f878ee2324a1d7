"""The bot process killed while its jobs run: every reply produced meanwhile is delivered once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import aiohttp

from core.generation.pipeline import PipelineSet
from core.queue.embedded_redis import _free_port
from core.queue.replies import GROUP
from core.service.facade import Reelsmith
from core.settings import Settings
from tests.conftest import wait_for
from tests.faults.conftest import Procs, child_env, in_process_worker


async def test_replies_made_while_the_bot_is_down_arrive_once(
    fsettings: Settings, fservice: Reelsmith, pipelines: PipelineSet, procs: Procs
) -> None:
    port = _free_port()
    token = secrets.token_hex(16)  # the owner's, so both bot processes let this client in
    env = child_env(fsettings, REELSMITH_WEB_PORT=str(port), REELSMITH_WEB_HOST="127.0.0.1", REELSMITH_WEB_TOKEN=token)
    base = f"http://127.0.0.1:{port}"
    bot = procs.start("bot-1", ["reelsmith.py", "bot", "web"], env)
    await bot.wait_log("playground on")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        jobs = []
        for prompt in ("a fox", "an owl", "a cat"):
            async with http.post(f"{base}/api/command", json={"chat": "room", "text": f"/imagine {prompt}"}) as r:
                body = await r.json()
                assert body["ok"], body
                jobs.append(body["job_id"])
        bot.kill()

        w = in_process_worker(fsettings, pipelines)
        task = asyncio.create_task(w.async_run())
        try:
            for job in jobs:
                await wait_for(lambda job=job: fservice.queue.load_reply(job), timeout=120)
        finally:
            await w.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

        bot2 = procs.start("bot-2", ["reelsmith.py", "bot", "web"], env)
        await bot2.wait_log("playground on")

        async def all_done() -> list[dict[str, Any]] | None:
            async with http.get(f"{base}/api/messages", params={"chat": "room"}) as r:
                msgs = (await r.json())["messages"]
            done = {m["job_id"] for m in msgs if m.get("job_id") and m.get("done") and m.get("media")}
            return msgs if done >= set(jobs) else None

        msgs = await wait_for(all_done, timeout=120, interval=0.1)
    for job in jobs:
        [msg] = [m for m in msgs if m.get("job_id") == job]
        assert msg["text"].startswith("\U0001f916 AI-generated") and len(msg["media"]) == 1
    pending = await fservice.redis.xpending(fsettings.key("replies", "web"), GROUP)
    assert pending["pending"] == 0
