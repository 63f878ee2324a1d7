"""Runs one generation job: references in, pipeline off the event loop, labelled media out, reply published."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arq.connections import ArqRedis
from PIL import Image

from core.blobs import BlobStore
from core.features import (
    Finalizer,
    FramePostprocessor,
    MediaSigner,
    worker_finalizers,
    worker_media_signers,
    worker_postprocessors,
)
from core.jobqueue import JobQueue
from core.labels import caption, mp4_metadata, xmp_packet
from core.media import MediaError, encode_mp4, encode_png, first_video_frame, open_image
from core.pipeline import GenerationError, GenerationResult, PipelineSet
from core.replies import ReplyBus
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, MediaFile, MediaType, Progress

log = logging.getLogger(__name__)



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
        self.signers: list[MediaSigner] = worker_media_signers(settings)

    async def warm_up(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.gpu, self.pipelines.warm_up)

    def close(self) -> None:
        self.gpu.shutdown(wait=False, cancel_futures=True)
        self.encoders.shutdown(wait=False, cancel_futures=True)

    async def run(self, request: GenerationRequest, job_try: int = 1) -> dict[str, Any]:
        """Execute a job; publishes exactly one final reply however often it is retried."""
        if await self.bus.already_replied(request.job_id):
            log.info("job %s already answered; skipping retry", request.job_id)
            return {"skipped": True}
        started = time.perf_counter()
        await self.queue.set_state(request.job_id, "running")
        try:
            images = await self._load_references(request)
            result = await self._generate(request, images)
            media = await self._encode_and_store(request, result)
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
            await self._reply_error(
                request,
                f"Sorry, generating this failed {job_try} times ({type(exc).__name__}). "
                "Nothing was charged; try again later or with other settings.",
                started,
            )
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

    async def _reply_error(self, request: GenerationRequest, message: str, started: float) -> None:
        reply = GenerationReply(
            job_id=request.job_id, requester=request.requester, kind=request.kind, prompt=request.prompt,
            seed=request.seed, error=message, elapsed_s=time.perf_counter() - started,
        )
        await self._finish(request, reply, "failed")

    async def _finish(self, request: GenerationRequest, reply: GenerationReply, state: str) -> None:
        """Record and publish the final reply, then run the finalizers (each must be idempotent)."""
        await self.queue.save_reply(reply)
        await self.bus.publish_reply(reply)
        await self.queue.set_state(request.job_id, state)
        for finalizer in self.finalizers:
            try:
                await finalizer(request, reply)
            except Exception:
                log.exception("finalizer %s failed for job %s", getattr(finalizer, "__name__", finalizer),
                              request.job_id)

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
        return await loop.run_in_executor(self.gpu, self.pipelines.generate, request, images, progress)

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
            data = await self._signed(request, result.model, data, "video/mp4")
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
                data = await self._signed(request, result.model, data, "image/png")
                blob = await self.blobs.put(data, "image/png", s.result_ttl_s)
                suffix = f"-{i + 1}" if len(result.frames) > 1 else ""
                media.append(MediaFile(blob_key=blob, mime="image/png",
                                       filename=f"reelsmith-{request.job_id}{suffix}.png",
                                       size=len(data), width=img.width, height=img.height))
        return media

    async def _signed(self, request: GenerationRequest, model: str, data: bytes, mime: str) -> bytes:
        """The encoded file after every signer (C2PA), each off the event loop."""
        loop = asyncio.get_running_loop()
        for sign in self.signers:
            data = await loop.run_in_executor(self.encoders, sign, request, model, data, mime)
        return data
