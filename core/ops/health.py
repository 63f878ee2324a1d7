"""/healthz, /livez and /metrics for every process.

Every process runs a small aiohttp server on `health_host:health_port` (loopback by default: probes and
scrapers from elsewhere need `REELSMITH_HEALTH_HOST` and, on Kubernetes, the NetworkPolicy that lets only
the monitoring namespace in). The playground also adds these routes to its own app, where they need the
owner's token like everything else on that port. /healthz answers 503 while Redis cannot be reached
(or the worker is still loading its models), so a load balancer or Kubernetes readiness probe
stops sending work; /livez only says the event loop runs, so a Redis outage never restarts pods.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis

from core.ops.metrics import Metrics
from core.settings import Settings

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
LIVE_PATH = "/livez"
METRICS_PATH = "/metrics"
PING_TIMEOUT_S = 2.0


class HealthEndpoints:
    """The handlers, bound to one process's Redis client and metrics."""

    def __init__(self, redis: Redis, settings: Settings, metrics: Metrics, *, role: str,
                 ready: Callable[[], bool] | None = None, name: str | None = None) -> None:
        self.redis = redis
        self.settings = settings
        self.metrics = metrics
        self.role = role
        self.ready = ready
        self.name = name

    async def redis_ok(self) -> bool:
        try:
            await asyncio.wait_for(self.redis.ping(), PING_TIMEOUT_S)
        except Exception as exc:  # any failure to answer is "unreachable" to a probe
            log.warning("health: redis unreachable (%s)", type(exc).__name__)
            return False
        return True

    async def healthz(self, _request: web.Request) -> web.Response:
        body: dict[str, object] = {"role": self.role}
        if self.name:
            body["worker"] = self.name
        if not await self.redis_ok():
            return web.json_response({**body, "ok": False, "redis": "unreachable"}, status=503)
        if self.ready is not None and not self.ready():
            return web.json_response({**body, "ok": False, "redis": "ok", "ready": False}, status=503)
        return web.json_response({**body, "ok": True, "redis": "ok"})

    async def livez(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "role": self.role})

    async def metrics_page(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh(self.redis, self.settings)
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def add_routes(self, app: web.Application, *, healthz: bool = True) -> None:
        if healthz:
            app.router.add_get(HEALTH_PATH, self.healthz)
        app.router.add_get(LIVE_PATH, self.livez)
        app.router.add_get(METRICS_PATH, self.metrics_page)

    def build_app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app)
        return app


async def serve_health(endpoints: HealthEndpoints, host: str, port: int) -> web.AppRunner:
    """Serve the endpoints on their own port; returns the runner (call `cleanup()` to stop)."""
    runner = web.AppRunner(endpoints.build_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on http://%s:%d%s and %s", host, port, HEALTH_PATH, METRICS_PATH)
    return runner
