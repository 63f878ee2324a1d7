"""Secrets (Redis password, bot token, Telegram file URLs) never reach logs, Redis, job payloads or replies."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.service import Attachment
from core.service.features import build_service
from core.settings import Settings
from core.types import Requester
from tests.conftest import wait_for
from tests.faults.conftest import Procs
from tests.faults.media_samples import png

PASSWORD = "pw-Sup3rSecretRedis"
TOKEN = "123456789:AAF-s3cretBotTokenValue_xyz"
FILE_URL = f"https://api.telegram.org/file/bot{TOKEN}/photos/file_7.png"
NEEDLES = [PASSWORD.encode(), TOKEN.encode(), b"s3cretBotToken", b"api.telegram.org/file"]
MEMBER = Requester(platform="web", user_id="42", chat_id="room")


async def _dump_redis(redis: object) -> bytes:
    """Every key and value in the database, as bytes."""
    r = redis
    out: list[bytes] = []
    async for key in r.scan_iter(count=500):  # type: ignore[attr-defined]
        out.append(key)
        kind = (await r.type(key)).decode()  # type: ignore[attr-defined]
        if kind == "string":
            out.append(await r.get(key) or b"")  # type: ignore[attr-defined]
        elif kind == "hash":
            for k, v in (await r.hgetall(key)).items():  # type: ignore[attr-defined]
                out += [k, v]
        elif kind == "list":
            out += await r.lrange(key, 0, -1)  # type: ignore[attr-defined]
        elif kind == "set":
            out += list(await r.smembers(key))  # type: ignore[attr-defined]
        elif kind == "zset":
            out += await r.zrange(key, 0, -1)  # type: ignore[attr-defined]
        elif kind == "stream":
            for _id, fields in await r.xrange(key):  # type: ignore[attr-defined]
                for k, v in fields.items():
                    out += [k, v]
    return b"\n".join(out)


def _leaks(blob: bytes) -> list[bytes]:
    return [n for n in NEEDLES if n in blob]


async def test_no_secret_reaches_logs_redis_or_members(
    fsettings: Settings, procs: Procs, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = EmbeddedRedis(tmp_path / "secret-redis", password=PASSWORD).start()
    try:
        settings = fsettings.model_copy(update={"redis_url": SecretStr(server.url),
                                                "telegram_token": SecretStr(TOKEN)})
        from tests.faults.conftest import child_env

        env = child_env(settings, REELSMITH_TELEGRAM_TOKEN=TOKEN)
        worker = procs.start("worker", ["tests/faults/worker_main.py", "--log-level", "DEBUG", "worker"], env)
        await worker.wait_log("worker ready")
        redis = await connect(settings)
        service = build_service(settings, redis)
        texts: list[str] = []
        # An adapter that (wrongly) passes the download URL as the file name.
        edit = await service.handle(MEMBER, "/edit make it snowy", [Attachment(png(), FILE_URL, "image/png")])
        bad = await service.handle(MEMBER, "/edit make it snowy", [Attachment(b"", FILE_URL, "image/png")])
        assert edit.ok and edit.job_id and not bad.ok
        texts += [edit.text, bad.text]
        first = await wait_for(lambda: service.queue.load_reply(edit.job_id or ""), timeout=120)
        assert first.error is None
        server.stop()  # an outage long enough for the error and reconnect paths to log
        await worker.wait_log("redis unavailable", timeout=60)
        server.start()
        again = await service.handle(MEMBER, "/imagine a fox")
        assert again.ok and again.job_id
        second = await wait_for(lambda: service.queue.load_reply(again.job_id or ""), timeout=120)
        texts += [first.model_dump_json(), second.model_dump_json(), again.text]

        assert _leaks(await _dump_redis(redis)) == []
        assert _leaks(worker.log().encode()) == []
        assert _leaks(caplog.text.encode()) == []
        assert _leaks("\n".join(texts).encode()) == []
        assert "file_7.png" in bad.text  # the member still learns which file was wrong
        await redis.aclose()
    finally:
        server.stop()
