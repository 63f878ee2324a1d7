"""Runs one generation job: references in, pipeline off the event loop, labelled media out, reply published."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arq.connections import ArqRedis
from PIL import Image

from core.blobs import BlobStore
from core.features import Finalizer, FramePostprocessor, worker_finalizers, worker_postprocessors
from core.jobqueue import JobQueue
from core.labels import caption, mp4_metadata, xmp_packet
from core.media import MediaError, encode_mp4, encode_png, first_video_frame, open_image
from core.pipeline import GenerationCancelled, GenerationError, GenerationResult, PipelineSet
from core.replies import ReplyBus
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, MediaFile, MediaType, Progress

log = logging.getLogger(__name__)

# How long a stopped job waits for the pipeline to reach its next step and let go of the GPU.
STOP_WAIT_S = 60.0


def timeout_text(limit_s: float) -> str:
    return (f"Sorry, this took longer than the {limit_s:g} s limit and was stopped. Nothing was charged; "
            "try fewer --steps, a shorter video (--frames/--duration), or try again when the queue is quieter.")


class WorkerRuntime:
    """State a worker keeps between jobs: warm pipelines, executors, Redis helpers."""

    def __init__(self, settings: Settings, redis: ArqRedis, pipelines: PipelineSet | None = None) -> None:
        self.settings = settings
        self.redis = redis
        self.blobs = BlobStore(redis, settings)
        self.bus = ReplyBus(redis, settings)
        self.queue = JobQueue(redis, settings)
        self.pipelines = pipelines or PipelineSet(settings)
        # One thread owns the accelerator; encoding runs beside it so the GPU never waits on it.
        self.gpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelsmith-gpu")
        self.encoders = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reelsmith-encode")
        self.jobs_done = 0
        self.finalizers: list[Finalizer] = worker_finalizers(settings, redis)
        self.postprocessors: list[FramePostprocessor] = worker_postprocessors(settings)

    async def warm_up(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.gpu, self.pipelines.warm_up)

    def close(self) -> None:
        self.gpu.shutdown(wait=False, cancel_futures=True)
        self.encoders.shutdown(wait=False, cancel_futures=True)

    async def run(self, request: GenerationRequest, job_try: int = 1) -> dict[str, Any]:
        """Execute a job; publishes exactly one final reply however often it is retried.

        The whole job (references, pipeline, encoding) runs under `job_timeout_s`: past it the
        pipeline is stopped at its next step, the GPU thread is free again, and the member is told.
        """
        if await self.bus.already_replied(request.job_id):
            # An earlier try answered; it may have died before its finalizers ran (refunds ...).
            log.info("job %s already answered; skipping retry", request.job_id)
            await self._finalize_once(request)
            return {"skipped": True}
        started = time.perf_counter()
        log.info("job %s try %d started", request.job_id, job_try)
        await self.queue.set_state(request.job_id, "running")
        try:
            async with asyncio.timeout(self.settings.job_timeout_s):
                images = await self._load_references(request)
                result = await self._generate(request, images)
                media = await self._encode_and_store(request, result)
        except TimeoutError:
            log.warning("job %s passed its time limit of %ss", request.job_id, self.settings.job_timeout_s)
            await self._reply_error(request, timeout_text(self.settings.job_timeout_s), started, state="timeout")
            return {"error": "timeout"}
        except (GenerationError, MediaError) as exc:
            await self._reply_error(request, str(exc), started)
            return {"error": str(exc)}
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if job_try < self.settings.max_tries:
                log.exception("job %s failed on try %d; arq will retry", request.job_id, job_try)
                raise
            log.exception("job %s failed on its last try", request.job_id)
            await self.give_up(request, job_try, type(exc).__name__, started)
            return {"error": type(exc).__name__}
        reply = GenerationReply(
            job_id=request.job_id, requester=request.requester, kind=request.kind, prompt=request.prompt,
            seed=request.seed, media=media, model=result.model, elapsed_s=time.perf_counter() - started,
            caption=caption(label_text=self.settings.label_text, service=self.settings.service_name,
                            model=result.model, job_id=request.job_id, seed=request.seed, prompt=request.prompt),
        )
        await self._finish(request, reply, "done")
        self.jobs_done += 1
        return {"media": len(media), "seconds": round(reply.elapsed_s, 3)}

    async def give_up(self, request: GenerationRequest, tries: int, reason: str,
                      started: float | None = None) -> None:
        """Answer a job that failed (or whose workers died) `tries` times: a clear failure reply, then refunds."""
        if await self.bus.already_replied(request.job_id):
            await self._finalize_once(request)
            return
        await self._reply_error(
            request,
            f"Sorry, generating this failed {tries} times ({reason}). "
            "Nothing was charged; try again later or with other settings.",
            time.perf_counter() if started is None else started,
        )

    async def _reply_error(self, request: GenerationRequest, message: str, started: float,
                           state: str = "failed") -> None:
        reply = GenerationReply(
            job_id=request.job_id, requester=request.requester, kind=request.kind, prompt=request.prompt,
            seed=request.seed, error=message, elapsed_s=time.perf_counter() - started,
        )
        await self._finish(request, reply, state)

    async def _finish(self, request: GenerationRequest, reply: GenerationReply, state: str) -> None:
        """Record and publish the final reply, then run the finalizers once (refunds, provenance, metrics)."""
        await self.queue.save_reply(reply)
        published = await self.bus.publish_reply(reply)
        await self.queue.set_state(request.job_id, state)
        if published:
            await self._finalize_once(request, reply)

    async def _finalize_once(self, request: GenerationRequest, reply: GenerationReply | None = None) -> None:
        """Run the finalizers for an answered job exactly once across tries and workers.

        A short claim guards the run; it becomes permanent when the finalizers are done. A worker that
        dies after publishing leaves an expiring claim, so the job's retry runs them instead.
        """
        marker = self.settings.key("job", request.job_id, "finalized")
        claim_ms = max(1, int(self.settings.job_lease_s * 1000 / 2))
        if not await self.redis.set(marker, "claimed", nx=True, px=claim_ms):
            return
        reply = reply or await self.queue.load_reply(request.job_id)
        if reply is None:  # the record expired: nothing left to settle
            return
        for finalizer in self.finalizers:
            try:
                await finalizer(request, reply)
            except Exception:
                log.exception("finalizer %s failed for job %s", getattr(finalizer, "__name__", finalizer),
                              request.job_id)
        await self.redis.set(marker, "done", ex=self.settings.result_ttl_s)

    async def _load_references(self, request: GenerationRequest) -> list[Image.Image]:
        images: list[Image.Image] = []
        for ref in request.references:
            if ref.media_type not in (MediaType.IMAGE, MediaType.VIDEO):
                continue
            blob = await self.blobs.get(ref.blob_key)
            if blob is None:
                raise MediaError("Your attachment expired before the job ran. Send it again.")
            data, _mime = blob
            if ref.media_type == MediaType.IMAGE:
                images.append(open_image(data, self.settings.max_image_pixels))
            else:
                images.append(first_video_frame(data))
        return images

    async def _generate(self, request: GenerationRequest, images: list[Image.Image]) -> GenerationResult:
        loop = asyncio.get_running_loop()
        last = [0.0]
        min_gap = self.settings.progress_min_interval_s
        stop = threading.Event()

        def progress(step: int, total: int) -> None:
            now = time.monotonic()
            if step < total and now - last[0] < min_gap:
                return
            last[0] = now
            update = Progress(job_id=request.job_id, requester=request.requester, state="running",
                              step=step, total_steps=total)
            asyncio.run_coroutine_threadsafe(self._publish_progress(update), loop)

        await self._publish_progress(Progress(job_id=request.job_id, requester=request.requester,
                                              state="running", step=0, total_steps=request.steps))
        run = loop.run_in_executor(self.gpu, self.pipelines.generate, request, images, progress, stop.is_set)
        try:
            # Shielded: a time limit or shutdown must not abandon the GPU thread while it still runs.
            return await asyncio.shield(run)
        except asyncio.CancelledError:
            stop.set()
            # Wait (bounded) until the pipeline has stopped at its next step, so the GPU is free again.
            await asyncio.wait([run], timeout=STOP_WAIT_S)
            if run.done() and not run.cancelled() and isinstance(run.exception(), GenerationCancelled):
                await loop.run_in_executor(self.gpu, self.pipelines.release_memory)
                log.info("job %s: pipeline stopped", request.job_id)
            raise

    async def _publish_progress(self, update: Progress) -> None:
        try:
            await self.bus.publish_progress(update)
        except Exception:  # progress is advisory; never fail a job over it
            log.warning("could not publish progress for %s", update.job_id, exc_info=True)

    async def _encode_and_store(self, request: GenerationRequest, result: GenerationResult) -> list[MediaFile]:
        loop = asyncio.get_running_loop()
        s = self.settings
        media: list[MediaFile] = []
        for post in self.postprocessors:
            result.frames = await loop.run_in_executor(self.encoders, post, request, result.frames)
        if result.is_video:
            meta = mp4_metadata(kind=request.kind, producer=s.service_name, job_id=request.job_id,
                                model=result.model, label_text=s.label_text)
            data = await loop.run_in_executor(self.encoders, encode_mp4, result.frames, request.fps, meta)
            w, h = result.frames[0].size
            blob = await self.blobs.put(data, "video/mp4", s.result_ttl_s)
            media.append(MediaFile(blob_key=blob, mime="video/mp4", filename=f"reelsmith-{request.job_id}.mp4",
                                   size=len(data), width=w - w % 2, height=h - h % 2,
                                   duration_s=len(result.frames) / request.fps))
        else:
            xmp = xmp_packet(kind=request.kind, producer=s.service_name, job_id=request.job_id,
                             model=result.model)
            for i, img in enumerate(result.frames):
                data = await loop.run_in_executor(self.encoders, encode_png, img, xmp)
                blob = await self.blobs.put(data, "image/png", s.result_ttl_s)
                suffix = f"-{i + 1}" if len(result.frames) > 1 else ""
                media.append(MediaFile(blob_key=blob, mime="image/png",
                                       filename=f"reelsmith-{request.job_id}{suffix}.png",
                                       size=len(data), width=img.width, height=img.height))
        return media
