"""Runs one generation job: references in, pipeline off the event loop, labelled media out, reply published."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from arq.connections import ArqRedis
from PIL import Image

from core.contract import ClipMark, Finalizer, FramePostprocessor, MediaSigner, ResultFacts, ResultGate
from core.errors import GenerationError
from core.extend.soundtrack import source_soundtrack
from core.generation.pipeline import GenerationCancelled, GenerationResult, PipelineSet
from core.i18n import _, in_member_locale, locale_of, run_in_locale
from core.labelling.metadata import CAPTION_LIMIT, caption, mp4_metadata, xmp_packet
from core.labelling.output import encode_image
from core.media.audio import PcmAudio, fit_to
from core.media.codecs import encode_gif, encode_mp4
from core.media.memes import render_meme
from core.media.untrusted import UnreadableMedia, UntrustedMedia
from core.ops.logs import ContextThreadPoolExecutor, bind_job_id
from core.queue import fencing, fleet
from core.queue.blobs import BlobStore
from core.queue.finisher import JobFinisher, cancelled_text
from core.queue.fleet import WorkerInfo
from core.queue.jobs import JobQueue
from core.queue.replies import ReplyBus, spoiler_for
from core.service.features import build_features
from core.settings import Settings
from core.types import Fault, GenerationReply, GenerationRequest, JobKind, MediaFile, MediaType, Progress
from workers.batching import Batcher
from workers.failures import MEMBER_INPUT_ERRORS, is_repeatable, member_input_text, repeatable_text

log = logging.getLogger(__name__)

# How long a stopped job waits for the pipeline to reach its next step and let go of the GPU.
STOP_WAIT_S = 60.0


def timeout_text(limit_s: float) -> str:
    return _("Sorry, this took longer than the {limit} s limit and was stopped. Nothing was charged; try fewer "
             "--steps, a shorter video (--frames/--duration), or try again when the queue is quieter.",
             limit=f"{limit_s:g}")


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
        # Context-carrying pools: log lines from these threads keep the job id.
        self.gpu: ThreadPoolExecutor = ContextThreadPoolExecutor(max_workers=1, thread_name_prefix="reelsmith-gpu")
        self.encoders: ThreadPoolExecutor = ContextThreadPoolExecutor(max_workers=2,
                                                                      thread_name_prefix="reelsmith-encode")
        self.jobs_done = 0
        self.batcher = Batcher(self.pipelines, self.gpu, settings.batch_max_size, settings.batch_window_s)
        # Seconds from enqueue to job start, most recent last (bench and metrics read it).
        self.pickup_latency_s: deque[float] = deque(maxlen=10_000)
        # The worker's side of every feature, in feature-list order.
        features = build_features(settings, redis)
        finalizers: list[Finalizer] = [fin for f in features for fin in f.finalizers]
        self.finisher = JobFinisher(redis, settings, finalizers)
        self.postprocessors: list[FramePostprocessor] = [p for f in features for p in f.frame_steps]
        self.clip_marks: list[ClipMark] = [m for f in features for m in f.clip_marks]
        self.signers: list[MediaSigner] = [m for f in features for m in f.media_signers]
        self.gates: list[ResultGate] = [g for f in features for g in f.result_gates]

    async def warm_up(self) -> None:
        """Load the models this worker serves (`worker_models`, else the defaults of `worker_families`) before
        taking jobs."""
        kinds = tuple(k for k in JobKind if k.uses_model and k.family in self.settings.worker_families)
        models = tuple(self.settings.worker_models)
        await asyncio.get_running_loop().run_in_executor(self.gpu, self.pipelines.warm_up, kinds, models)

    def worker_info(self, name: str) -> WorkerInfo:
        """What this worker tells the fleet: warm models, load and switch counts, jobs done."""
        p = self.pipelines
        return WorkerInfo(name=name, device=str(p.device), families=list(self.settings.worker_families),
                          models=dict(getattr(p, "sources", {})),
                          loads=int(getattr(p, "loads", 0)), switches=int(getattr(p, "switches", 0)),
                          evictions=int(getattr(p, "evictions", 0)),
                          jobs_done=self.jobs_done)

    async def announce_forever(self, name: str, every_s: float = 10.0) -> None:
        """Heartbeat: keep this worker's fleet entry fresh (it expires three beats after the last)."""
        while True:
            try:
                await fleet.announce(self.redis, self.settings, self.worker_info(name), ttl_s=every_s * 3)
            except Exception as exc:  # Redis away: the entry lapses and comes back with the next beat
                log.warning("could not announce worker %s (%s)", name, type(exc).__name__)
            await asyncio.sleep(every_s)

    async def sweep_forever(self) -> None:
        """Delete expired media from the store by their Redis expiry index, every `media_sweep_interval_s`."""
        while True:
            try:
                swept = await self.blobs.sweep_all()
                if swept:
                    log.info("swept %d expired media objects", swept)
            except Exception as exc:  # Redis or the store away: the next round catches up
                log.warning("media sweep failed (%s)", type(exc).__name__)
            await asyncio.sleep(self.settings.media_sweep_interval_s)

    def close(self) -> None:
        self.gpu.shutdown(wait=False, cancel_futures=True)
        self.encoders.shutdown(wait=False, cancel_futures=True)

    @in_member_locale
    async def run(self, request: GenerationRequest, job_try: int = 1,
                  enqueued_at: float | None = None) -> dict[str, Any]:
        """Execute a job; publishes exactly one final reply however often it is retried.

        The whole job (references, pipeline, encoding) runs under `job_timeout_s`: past it the
        pipeline is stopped at its next step, the GPU thread is free again, and the member is told.
        """
        if enqueued_at is not None and job_try == 1:
            self.pickup_latency_s.append(time.time() - enqueued_at)
        bind_job_id(request.job_id)  # arq runs each job in its own task, so this ends with the job
        if await self.finisher.already_replied(request.job_id):
            # An earlier try answered; it may have died before its finalizers ran (refunds ...).
            log.info("job %s already answered; skipping retry", request.job_id)
            await self.finisher.finalize_once(request)
            return {"skipped": True}
        # This run holds the lease now: any earlier run of the job (cut off, stalled) is fenced off from here.
        token = await self.finisher.fence.take(request.job_id)
        started = time.perf_counter()
        log.info("job %s try %d started (fencing token %d)", request.job_id, job_try, token)
        await self.queue.set_state(request.job_id, "running")
        try:
            async with asyncio.timeout(self.settings.job_timeout_s):
                if request.kind.uses_model:
                    images = await self._load_references(request)
                    video = await self._load_video(request)
                    result = await self._generate(request, images, video)
                else:
                    result = await self._meme_source(request)
                self._pass_gates(request, result)
                media = await self._encode_and_store(request, result)
        except TimeoutError:
            log.warning("job %s passed its time limit of %ss", request.job_id, self.settings.job_timeout_s)
            await self._reply_error(request, timeout_text(self.settings.job_timeout_s), started, state="timeout")
            return {"error": "timeout"}
        except UnreadableMedia as exc:
            # It decoded within the same limits at submit, so a helper's limit here is this host's load: refunded.
            await self._reply_error(request, _("{problem} Nothing was charged; try again in a moment.", problem=exc),
                                    started)
            return {"error": str(exc)}
        except MEMBER_INPUT_ERRORS as exc:
            # Their reference passed the submit checks but failed in the job: their input, so the charge stands.
            text = member_input_text(str(exc), charged=self.settings.quota_enabled)
            await self._reply_error(request, text, started, fault="member")
            return {"error": str(exc)}
        except GenerationError as exc:
            await self._reply_error(request, str(exc), started)
            return {"error": str(exc)}
        except asyncio.CancelledError:
            if await self.finisher.was_cancelled(request.job_id):
                # Aborted by a moderator's /mod cancel: answer (and refund) before arq records the abort.
                await asyncio.shield(self._reply_error(request, cancelled_text(request), started))
            raise
        except Exception as exc:
            repeatable = is_repeatable(exc)
            if not repeatable and job_try < self.settings.max_tries:
                log.exception("job %s failed on try %d; arq will retry", request.job_id, job_try)
                raise
            if repeatable:
                log.exception("job %s failed in a way a retry would repeat; answering without retrying",
                              request.job_id)
            else:
                log.exception("job %s failed on its last try", request.job_id)
            await self.give_up(request, job_try, type(exc).__name__, started, repeatable=repeatable)
            return {"error": type(exc).__name__}
        notes = [*request.notes, *result.notes]
        # Notes go after the label and prompt; the label stays first, whatever is cut.
        note_text = "".join(f"\nNote: {n}." for n in notes)[: CAPTION_LIMIT // 2]
        reply = GenerationReply(
            job_id=request.job_id, requester=request.requester, kind=request.kind, prompt=request.prompt,
            seed=request.seed, media=media, model=result.model, elapsed_s=time.perf_counter() - started,
            gpu_s=result.seconds / max(1, result.batch_size),  # a batch's render time, shared by its jobs
            caption=caption(label_text=self.settings.label_text, service=self.settings.service_name,
                            model=result.model, job_id=request.job_id, seed=request.seed, prompt=request.prompt,
                            limit=CAPTION_LIMIT - len(note_text)) + note_text,
            notes=notes, spoiler=spoiler_for(request, flagged=result.flagged),
        )
        await self.finisher.finish(request, reply, "done")
        self.jobs_done += 1
        return {"media": len(media), "seconds": round(reply.elapsed_s, 3)}

    @in_member_locale
    async def give_up(self, request: GenerationRequest, tries: int, reason: str,
                      started: float | None = None, *, repeatable: bool = False) -> None:
        """Answer a job that failed (or whose workers died) `tries` times, or once in a way a retry would
        repeat: a clear failure reply, then refunds (the service's fault)."""
        if await self.finisher.already_replied(request.job_id):
            await self.finisher.finalize_once(request)
            return
        if fencing.held(request.job_id) is None:  # a run of its own (tries used up), not a failed run's end
            await self.finisher.fence.take(request.job_id)
        text = repeatable_text(reason) if repeatable else _(
            "Sorry, generating this failed {tries} times ({reason}). Nothing was charged; try again later or with "
            "other settings.", tries=tries, reason=reason)
        await self._reply_error(request, text, time.perf_counter() if started is None else started)

    async def _reply_error(self, request: GenerationRequest, message: str, started: float,
                           state: str = "failed", fault: Fault = "service") -> None:
        reply = GenerationReply(
            job_id=request.job_id, requester=request.requester, kind=request.kind, prompt=request.prompt,
            seed=request.seed, error=message, fault=fault, elapsed_s=time.perf_counter() - started,
        )
        await self.finisher.finish(request, reply, state)

    def _pass_gates(self, request: GenerationRequest, result: GenerationResult) -> None:
        """Every feature's result gate sees the rendered result before it is encoded; one refusal fails the job."""
        facts = ResultFacts(flagged=result.flagged)
        for gate in self.gates:
            refusal = gate(request, facts)
            if refusal is not None:
                raise GenerationError(refusal)

    async def _blob(self, blob_key: str) -> bytes:
        blob = await self.blobs.get(blob_key)
        if blob is None:
            # Gone from storage (expired, deleted): not the member's input failing, so not charged.
            raise GenerationError(_("Your attachment expired before the job ran. Send it again; nothing was "
                                    "charged."))
        return blob[0]

    async def _load_references(self, request: GenerationRequest) -> list[Image.Image]:
        """Image references in order; for image jobs with only a video, that video's first frame.

        Members' files are decoded in the sandbox (core/media/untrusted.py), like everywhere else.
        """
        media = UntrustedMedia(self.settings)
        images: list[Image.Image] = []
        for ref in request.references:
            if ref.media_type == MediaType.IMAGE:
                images.append(await media.image(await self._blob(ref.blob_key)))
        if not images and not request.kind.is_video:
            video = next((r for r in request.references if r.media_type == MediaType.VIDEO), None)
            if video is not None:
                images.append(await media.picture(await self._blob(video.blob_key), MediaType.VIDEO))
        return images

    async def _load_video(self, request: GenerationRequest) -> list[Image.Image] | None:
        """A video job's first video reference, sampled to the clip's frame count and size (video to video)."""
        ref = next((r for r in request.references if r.media_type == MediaType.VIDEO), None)
        if ref is None or not request.kind.is_video:
            return None
        # Extend continues the whole source clip (every frame); restyling samples the reference to the clip.
        count = None if request.kind == JobKind.EXTEND else request.num_frames
        frames, _fps = await UntrustedMedia(self.settings).video_frames(
            await self._blob(ref.blob_key), count=count, max_frames=self.settings.max_frames,
            size=(request.width, request.height))
        return frames

    async def _meme_source(self, request: GenerationRequest) -> GenerationResult:
        """The member's own picture, GIF or clip (every frame), for a meme that needs no model."""
        ref = next(r for r in request.references if r.media_type in (MediaType.IMAGE, MediaType.VIDEO))
        data = await self._blob(ref.blob_key)
        s = self.settings
        media = UntrustedMedia(s)
        if ref.media_type == MediaType.IMAGE:
            frames, fps = await media.image_frames(data, s.max_frames, s.meme_max_side)
            prefer_gif = len(frames) > 1  # an animated GIF stays a GIF
        else:
            frames, fps = await media.video_frames(data, max_frames=s.max_frames, max_side=s.meme_max_side)
            prefer_gif = False
        return GenerationResult(frames=frames, is_video=len(frames) > 1, model="none (member's media)",
                                seconds=0.0, fps=fps, prefer_gif=prefer_gif)

    async def _soundtrack(self, request: GenerationRequest, result: GenerationResult,
                          duration_s: float) -> PcmAudio | None:
        """The member's audio reference (or the model's own soundtrack), trimmed or looped to the clip."""
        ref = next((r for r in request.references if r.media_type == MediaType.AUDIO), None)
        audio = result.audio
        if ref is None and request.kind == JobKind.EXTEND:  # the source clip's own soundtrack, if it had one
            audio = await source_soundtrack(UntrustedMedia(self.settings), request, self._blob)
        if ref is not None:
            audio = await UntrustedMedia(self.settings).audio(await self._blob(ref.blob_key), duration_s + 1.0)
        return fit_to(audio, duration_s) if audio is not None else None

    def _video_format(self, request: GenerationRequest, result: GenerationResult, audio: PcmAudio | None) -> str:
        """mp4 or gif: asked for, or GIF for silent GIF memes and short silent loops where a platform prefers it."""
        if request.output_format != "auto":
            return request.output_format
        if audio is not None:
            return "mp4"
        if result.prefer_gif:
            return "gif"
        s = self.settings
        if request.requester.platform in s.gif_platforms and len(result.frames) <= s.gif_max_frames:
            return "gif"
        return "mp4"

    async def _generate(self, request: GenerationRequest, images: list[Image.Image],
                        video: list[Image.Image] | None = None) -> GenerationResult:
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
        stop = threading.Event()
        if video is None:
            run: asyncio.Future[GenerationResult] = asyncio.ensure_future(
                self.batcher.submit(request, images, progress, stop.is_set))
        else:
            # In the member's locale: the pipeline's GenerationErrors are made on the GPU thread.
            run = loop.run_in_executor(self.gpu, run_in_locale, locale_of(request), functools.partial(
                self.pipelines.generate, request, images, progress, video=video, should_stop=stop.is_set))
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

    async def _label(self, request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        """Every feature's frame steps (badge, then watermark), in order, off the event loop."""
        loop = asyncio.get_running_loop()
        for post in self.postprocessors:
            frames = await loop.run_in_executor(self.encoders, post, request, frames)
        return frames

    def _clip_change(self, request: GenerationRequest, size: tuple[int, int]) -> np.ndarray | None:
        """The clip marks' luma changes, added up (None: none), for the MP4 writer's Y plane."""
        total: np.ndarray | None = None
        for mark in self.clip_marks:
            change = mark.change(request, size)
            if change is not None:
                total = change.astype(np.int16) if total is None else total + change
        return total

    async def _encode_and_store(self, request: GenerationRequest, result: GenerationResult) -> list[MediaFile]:
        loop = asyncio.get_running_loop()
        s = self.settings
        # Captions go on before the postprocessors, so the visible AI badge is drawn over them, never under.
        if request.meme_top or request.meme_bottom:
            result.frames = await loop.run_in_executor(self.encoders, render_meme, result.frames,
                                                       request.meme_top, request.meme_bottom)
        if not result.is_video:
            return await self._store_images(request, result)
        # An extended clip's source part is labelled already: the steps label the new part only.
        head, result.frames = result.frames[:result.labelled], result.frames[result.labelled:]
        result.frames = head + await self._label(request, result.frames)
        new = len(head)  # the clip marks go on the new part too, in the encoder
        fps = float(result.fps or request.fps)
        duration = len(result.frames) / fps
        audio = await self._soundtrack(request, result, duration)
        w, h = result.frames[0].size
        if self._video_format(request, result, audio) == "gif":
            label = f"{s.label_text} by {s.service_name} ({result.model}), job {request.job_id}"
            marked = result.frames[new:]
            for mark in self.clip_marks:  # GIF has no Y plane to carry them: in RGB, as frame steps
                marked = await loop.run_in_executor(self.encoders, mark.apply, request, marked)
            result.frames = result.frames[:new] + marked
            data = await loop.run_in_executor(self.encoders, encode_gif, result.frames, max(1, round(fps)), label)
            mime, ext, w2, h2 = "image/gif", "gif", w, h
        else:
            meta = mp4_metadata(kind=request.kind, producer=s.service_name, job_id=request.job_id,
                                model=result.model, label_text=s.label_text)
            encode = functools.partial(encode_mp4, result.frames, max(1, round(fps)), meta, audio=audio,
                                       audio_bitrate=s.audio_bitrate, luma_change=self._clip_change(request, (w, h)),
                                       luma_from=new)
            data = await loop.run_in_executor(self.encoders, encode)
            mime, ext, w2, h2 = "video/mp4", "mp4", w - w % 2, h - h % 2
        data = await self._signed(request, result.model, data, mime)
        blob = await self.blobs.put(data, mime, s.result_ttl_s)
        return [MediaFile(blob_key=blob, mime=mime, filename=f"reelsmith-{request.job_id}.{ext}",
                          size=len(data), width=w2, height=h2, duration_s=duration)]

    async def _still_current(self, job_id: str) -> bool:
        """Whether this run still holds the job's fencing token: a stale run shows no early file either."""
        token = fencing.held(job_id)
        return token is None or await self.finisher.fence.is_current(job_id, token)

    async def _store_images(self, request: GenerationRequest, result: GenerationResult) -> list[MediaFile]:
        """Each image labelled, encoded, signed and stored on its own, side by side on the encoder pool.

        With several images (--n) the first one stored is published at once as an "encoding" progress event
        carrying it, so an adapter that can show it early does; the final reply still carries them all, in order.
        """
        loop = asyncio.get_running_loop()
        s = self.settings
        xmp = xmp_packet(kind=request.kind, producer=s.service_name, job_id=request.job_id, model=result.model)
        count = len(result.frames)
        ready: list[MediaFile] = []

        async def one(index: int, frame: Image.Image) -> MediaFile:
            (img,) = await self._label(request, [frame])  # an image's steps see it alone: one in, one out
            # The platform's format, once: the adapter sends it without encoding again (core/labelling/output.py).
            out = await loop.run_in_executor(self.encoders, encode_image, img, xmp, request.requester.platform, s)
            data = await self._signed(request, result.model, out.data, out.mime)
            blob = await self.blobs.put(data, out.mime, s.result_ttl_s)
            suffix = f"-{index + 1}" if count > 1 else ""
            name = f"reelsmith-{request.job_id}{suffix}.{out.extension}"
            file = MediaFile(blob_key=blob, mime=out.mime, filename=name, size=len(data), width=img.width,
                             height=img.height)
            ready.append(file)
            if count > 1 and len(ready) == 1 and await self._still_current(request.job_id):
                await self._publish_progress(Progress(job_id=request.job_id, requester=request.requester,
                                                      state="encoding", step=1, total_steps=count, media=[file]))
            return file

        tasks = [asyncio.ensure_future(one(i, frame)) for i, frame in enumerate(result.frames)]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:  # one image failed (or the job's time ran out): the others stop too
                task.cancel()
            raise

    async def _signed(self, request: GenerationRequest, model: str, data: bytes, mime: str) -> bytes:
        """The encoded file after every signer (C2PA), each off the event loop."""
        loop = asyncio.get_running_loop()
        for sign in self.signers:
            data = await loop.run_in_executor(self.encoders, sign, request, model, data, mime)
        return data
