"""One place that wires core features into the service (bot side) and the worker.

Each feature module exposes small functions; this file lists them so adapters and workers get the
same behaviour without knowing which features exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from arq.connections import ArqRedis
from PIL import Image

from core.labelling import steps as labelling
from core.moderation.wiring import install as install_moderation
from core.ops.metrics import job_finalizer, process_metrics, refusal_listener
from core.quotas.book import ModeratorQuotas, install_quotas, refund_finalizer
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest

Finalizer = Callable[[GenerationRequest, GenerationReply], Awaitable[None]]
FramePostprocessor = Callable[[GenerationRequest, list[Image.Image]], list[Image.Image]]
MediaSigner = Callable[[GenerationRequest, str, bytes, str], bytes]  # (request, model, data, mime) -> data


def build_service(settings: Settings, redis: ArqRedis) -> Reelsmith:
    """The service with every feature's guards, commands and button actions registered."""
    service = Reelsmith(settings, redis)
    quota_guard = install_quotas(service)  # quotas: keep this guard last, so other refusals cost nothing
    install_moderation(service, quota=ModeratorQuotas(quota_guard.book),
                       finalizers=lambda: worker_finalizers(settings, redis))
    service.refusal_listeners.append(refusal_listener(process_metrics()))
    from core.labelling.verify import verify_command  # labelling: /verify

    service.add_command("verify", verify_command, "check whether an attached image or video was made here")
    return service


def worker_finalizers(settings: Settings, redis: ArqRedis) -> list[Finalizer]:
    """Run once per finished job, after its reply is published (refunds, provenance, metrics)."""
    return [
        refund_finalizer(redis, settings),
        job_finalizer(process_metrics(), settings, redis),
        labelling.provenance_step(settings, redis),
    ]


def worker_postprocessors(settings: Settings) -> list[FramePostprocessor]:
    """Run on finished frames before encoding (visible badge, invisible watermark)."""
    steps: list[FramePostprocessor] = []
    if settings.badge_enabled:
        steps.append(labelling.badge_step(settings))
    if settings.watermark_enabled:
        steps.append(labelling.watermark_step(settings))  # last change to pixels
    return steps


def worker_media_signers(settings: Settings) -> list[MediaSigner]:
    """Run on each encoded file before it is stored (C2PA signing goes last: it binds the exact bytes)."""
    signers: list[MediaSigner] = []
    c2pa = labelling.c2pa_step(settings)
    if c2pa is not None:
        signers.append(c2pa)
    return signers
