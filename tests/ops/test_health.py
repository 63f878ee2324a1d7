"""/healthz follows Redis: 200 while it answers, 503 once it is gone; workers are ready only once warm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer, unused_port

from bots.web.app import WebPlayground
from core.ops.health import HealthEndpoints, serve_health
from core.ops.metrics import Metrics
from core.queue.connection import connect
from core.queue.embedded_redis import EmbeddedRedis
from core.service.features import build_service
from core.settings import Settings


async def test_healthz_reports_lost_redis(tmp_path: Path, tiny_dir: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False).start()
    settings = Settings(_env_file=None, redis_url=server.url, data_dir=tmp_path / "data", tiny_models_dir=tiny_dir)
    redis = await connect(settings)
    service = build_service(settings, redis)
    worker_state: dict[str, Any] = {}
    endpoints = HealthEndpoints(redis, settings, Metrics(), role="worker", name="w1",
                                ready=lambda: bool(worker_state.get("ready")))
    health = TestClient(TestServer(endpoints.build_app(), host="127.0.0.1"))
    playground = WebPlayground(service)
    web = TestClient(TestServer(playground.build_app(), host="127.0.0.1"), headers=playground.access.bearer_header())
    await health.start_server()
    await web.start_server()
    try:
        starting = await health.get("/healthz")
        assert starting.status == 503
        assert (await starting.json()) == {"role": "worker", "worker": "w1", "ok": False, "redis": "ok",
                                           "ready": False}
        worker_state["ready"] = True
        up = await health.get("/healthz")
        assert up.status == 200 and (await up.json())["ok"] is True
        assert (await web.get("/healthz")).status == 200

        server.stop(kill=True)

        down = await health.get("/healthz")
        assert down.status == 503
        assert (await down.json())["redis"] == "unreachable"
        assert (await web.get("/healthz")).status == 503
        # Liveness does not depend on Redis (a Redis outage must not restart every pod) ...
        assert (await health.get("/livez")).status == 200
        # ... and /metrics still answers, saying Redis is down.
        page = await (await health.get("/metrics")).text()
        assert "reelsmith_redis_up 0.0" in page
    finally:
        await health.close()
        await web.close()
        await redis.aclose()
        server.stop()


async def test_health_server_listens_on_its_port(settings: Settings) -> None:
    redis = await connect(settings)
    port = unused_port()
    runner = await serve_health(HealthEndpoints(redis, settings, Metrics(), role="bot"), "127.0.0.1", port)
    try:
        async with ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json()) == {"role": "bot", "ok": True, "redis": "ok"}
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert "reelsmith_queue_depth" in await resp.text()
    finally:
        await runner.cleanup()
        await redis.aclose()
