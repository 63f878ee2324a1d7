"""What every adapter calls: turn a chat command plus attachments into a queued job or a clear answer."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from arq.connections import ArqRedis

from core.blobs import BlobStore
from core.grammar import HELP_TEXT, MAX_SEED, CommandError, ParsedCommand, frames_for, parse_command, size_for
from core.jobqueue import JobQueue
from core.media import MediaError, first_video_frame, open_image, probe_video, sniff
from core.settings import Settings
from core.types import GenerationRequest, JobKind, MediaRef, MediaType, Requester

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """Bytes an adapter downloaded itself; `declared_mime` is never trusted."""

    data: bytes
    filename: str = ""
    declared_mime: str = ""


@dataclass
class Outcome:
    """The answer to show in chat right away."""

    text: str
    ok: bool
    job_id: str | None = None
    position: int | None = None
    request: GenerationRequest | None = None
    extra: dict[str, str] = field(default_factory=dict)


def queued_text(position: int) -> str:
    return f"\u23f3 Queued (position {position}). I'll update this message as it renders."


class Reelsmith:
    """The platform-neutral service facade. One per process, shared by its adapters."""

    def __init__(self, settings: Settings, redis: ArqRedis) -> None:
        self.settings = settings
        self.redis = redis
        self.blobs = BlobStore(redis, settings)
        self.queue = JobQueue(redis, settings)

    def parse(self, text: str) -> ParsedCommand:
        s = self.settings
        return parse_command(text, max_prompt_chars=s.max_prompt_chars, max_steps=s.max_steps,
                             max_frames=s.max_frames, max_duration_s=s.max_frames / s.video_fps)

    async def submit(self, requester: Requester, text: str, attachments: list[Attachment] | None = None,
                     *, seed: int | None = None) -> Outcome:
        """Validate and queue a command. Bad input is answered here and costs nothing."""
        try:
            parsed = self.parse(text)
            if parsed.kind is None:
                return Outcome(HELP_TEXT, ok=True)
            refs = await self._store_references(parsed, attachments or [])
            request = self.build_request(parsed, requester, refs, seed=seed)
        except (CommandError, MediaError) as exc:
            return Outcome("\u26a0\ufe0f " + str(exc), ok=False)
        position = await self.queue.enqueue(request)
        log.info("queued job %s kind=%s platform=%s", request.job_id, request.kind, requester.platform)
        return Outcome(queued_text(position), ok=True, job_id=request.job_id, position=position,
                       request=request)

    def build_request(self, parsed: ParsedCommand, requester: Requester, refs: list[MediaRef],
                      *, seed: int | None = None) -> GenerationRequest:
        s = self.settings
        assert parsed.kind is not None
        kind = parsed.kind
        long_side = s.video_size() if kind.is_video else s.image_size()
        width, height = size_for(parsed.aspect_ratio, long_side)
        frames = 1
        if kind.is_video:
            frames = frames_for(parsed.frames, parsed.duration_s, s.video_fps, s.frames_default(), s.max_frames)
        chosen_seed = parsed.seed if parsed.seed is not None else seed
        return GenerationRequest(
            requester=requester,
            kind=kind,
            prompt=parsed.prompt,
            negative_prompt=parsed.negative_prompt,
            aspect_ratio=parsed.aspect_ratio,
            width=width,
            height=height,
            seed=chosen_seed if chosen_seed is not None else secrets.randbelow(MAX_SEED + 1),
            steps=parsed.steps or min(s.steps_default(), s.max_steps),
            num_frames=frames,
            fps=s.video_fps,
            references=refs,
        )

    async def _store_references(self, parsed: ParsedCommand, attachments: list[Attachment]) -> list[MediaRef]:
        assert parsed.kind is not None
        refs: list[MediaRef] = []
        for att in attachments:
            refs.append(await self.store_attachment(att))
        images = [r for r in refs if r.media_type in (MediaType.IMAGE, MediaType.VIDEO)]
        if parsed.kind.needs_image and not images:
            raise CommandError(
                f"/{parsed.command} needs an image: attach one to your message, or reply to a message "
                f"that has one, e.g. /{parsed.command} {parsed.prompt or 'make it snow'}"
            )
        return refs

    async def store_attachment(self, att: Attachment) -> MediaRef:
        """Check an attachment from its bytes and store it as a blob for the job."""
        s = self.settings
        size = len(att.data)
        if size == 0:
            raise MediaError(f"{att.filename or 'The attached file'} is empty.")
        if size > s.max_reference_bytes:
            raise MediaError(
                f"{att.filename or 'That file'} is {size / 1e6:.1f} MB; the limit is "
                f"{s.max_reference_bytes / 1e6:.0f} MB. Send a smaller file."
            )
        kind = sniff(att.data)
        if kind is None:
            raise MediaError(
                f"{att.filename or 'That file'} is not a supported image, video or audio file "
                "(PNG, JPEG, WebP, GIF, MP4, WebM, MP3, OGG, WAV, M4A)."
            )
        width = height = None
        duration = None
        if kind.media_type == MediaType.IMAGE:
            img = open_image(att.data, s.max_image_pixels)
            width, height = img.size
        elif kind.media_type == MediaType.VIDEO:
            info = probe_video(att.data)
            if info.width * info.height > s.max_image_pixels:
                raise MediaError(f"That video is {info.width}x{info.height}; send a smaller one.")
            if info.duration_s > s.max_video_seconds:
                raise MediaError(
                    f"That video is {info.duration_s:.0f} s long; the limit is {s.max_video_seconds:.0f} s. "
                    "Trim it and try again."
                )
            first_video_frame(att.data)  # proves it decodes
            width, height, duration = info.width, info.height, info.duration_s
        blob_id = await self.blobs.put(att.data, kind.mime)
        return MediaRef(blob_key=blob_id, mime=kind.mime, media_type=kind.media_type,
                        name=att.filename[:100], size=size, width=width, height=height, duration_s=duration)

    async def media(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime of a stored result or reference."""
        return await self.blobs.get(blob_id)

    @staticmethod
    def command_name(kind: JobKind) -> str:
        return {"image": "imagine", "edit": "edit", "video": "video", "animate": "animate"}[kind.value]
