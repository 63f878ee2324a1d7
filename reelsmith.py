"""The `reelsmith` command: run everything, a worker, one bot, or build the tiny models."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from bots.adapter import Adapter, discover
from core.generation.tiny_models import build_tiny_models
from core.ops import (
    ConfigError,
    HealthEndpoints,
    check_or_exit,
    describe_validation_error,
    process_metrics,
    serve_health,
    setup_logging,
    worker_name,
)
from core.queue import connect, ensure_redis
from core.service.features import build_service
from core.settings import Settings

log = logging.getLogger("reelsmith")


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


async def _serve(settings: Settings, *, worker: bool, adapters: list[Adapter]) -> None:
    from workers.settings import build_worker

    service = build_service(settings, await connect(settings))
    stoppers: list[Callable[[], Awaitable[None]]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    worker_task = None
    arq_worker = None
    if worker:
        arq_worker = build_worker(settings, handle_signals=False)
        worker_task = asyncio.create_task(arq_worker.async_run())
    for adapter in adapters:
        stoppers.append((await adapter.start(service)).stop)
    if settings.health_port:
        # Every process, the playground's too: its own port needs the owner's token, which probes and
        # scrapers do not carry. Loopback unless REELSMITH_HEALTH_HOST says otherwise.
        worker_ctx = arq_worker.ctx if arq_worker is not None else None
        endpoints = HealthEndpoints(
            service.redis, settings, process_metrics(),
            role="worker" if worker else ("web" if [a.name for a in adapters] == ["web"] else "bot"),
            ready=(lambda: bool(worker_ctx.get("ready"))) if worker_ctx is not None else None,
            name=worker_name(settings) if worker else None,
        )
        try:
            runner = await serve_health(endpoints, settings.health_host, settings.health_port)
        except OSError as exc:
            raise SystemExit(
                f"REELSMITH_HEALTH_PORT: cannot listen on {settings.health_host}:{settings.health_port} ({exc}). "
                "Give each process on this host its own port, or 0 to turn the health server off."
            ) from None
        stoppers.append(runner.cleanup)
    waiters = [asyncio.create_task(stop.wait())] + ([worker_task] if worker_task else [])
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if arq_worker is not None:
        from workers.drain import drain_worker

        stop.clear()  # a second Ctrl-C or SIGTERM stops waiting for running jobs
        await drain_worker(arq_worker, settings.job_timeout_s, interrupt=stop)
    for stopper in stoppers:
        await stopper()
    if arq_worker is not None:
        await arq_worker.close()
    await service.redis.aclose()


def main(argv: list[str] | None = None) -> None:
    available = discover()
    parser = argparse.ArgumentParser(prog="reelsmith", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="everything: embedded Redis if needed, a worker, the playground, bots with tokens")
    sub.add_parser("worker", help="a GPU (or CPU) worker")
    bot = sub.add_parser("bot", help="one chat adapter")
    bot.add_argument("platform", choices=list(available))
    models = sub.add_parser("models", help="model utilities")
    msub = models.add_subparsers(dest="models_cmd", required=True)
    tiny = msub.add_parser("build-tiny", help="build the tiny random-weight model set into DIR")
    tiny.add_argument("dir", type=Path, nargs="?")
    args = parser.parse_args(argv)
    settings = _load_settings()
    setup_logging(args.log_level, settings.log_format)
    if args.cmd == "models":
        target = args.dir or settings.resolved_tiny_dir()
        print(f"Tiny models ready in {build_tiny_models(target)}")
        return
    # Fail fast, naming the setting, before anything slow (model loading) or half-started.
    if args.cmd == "bot":
        adapters = [available[args.platform]]
    elif args.cmd == "run":
        adapters = [a for a in available.values() if a.enabled(settings)]
    else:
        adapters = []
    check_or_exit(settings, os.environ, bots=[a.name for a in adapters], loads_models=args.cmd in ("run", "worker"))
    settings, server = ensure_redis(settings)
    if server is not None:
        log.info("started embedded Redis (data in %s)", server.data_dir)
    try:
        if args.cmd == "run":
            if settings.image_model is None or settings.video_model is None:
                build_tiny_models(settings.resolved_tiny_dir())
            asyncio.run(_serve(settings, worker=True, adapters=adapters))
        elif args.cmd == "worker":
            asyncio.run(_serve(settings, worker=True, adapters=[]))
        elif args.cmd == "bot":
            asyncio.run(_serve(settings, worker=False, adapters=adapters))
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
    sys.exit(0)
