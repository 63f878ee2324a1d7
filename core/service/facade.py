"""What every adapter calls: turn a chat command plus attachments into a queued job or a clear answer.

Extension points (so features plug in without adapters changing):
- `guards`: checked before a job is queued (bans, pause, blocklists, quotas, consent ...). A guard
  raises `Refusal` to refuse with a message; `undo` gives back what `check` took when a later guard
  refuses or queueing fails, so a refused request costs nothing. A guard's `stage` says what it needs:
  "request" guards (bans, switches, prompt, NSFW, quota) see only the request and run, in order,
  before anything is stored; "media" guards (consent: faces, voices) read the stored references and run
  after storing. A guard without `stage` is a media guard, so it always finds the references. Whatever
  this submission stored is deleted on any refusal or error (never blobs it did not store, such as a
  result a Vary/Animate button reuses), and its bytes count against the member's storage budget no more.
- `commands`: non-generation chat commands (`/quota`, `/mod`, `/verify` ...) by name.
- `actions`: result buttons (`reroll`, `vary`, `animate`, `report`) by name.
- `refusal_listeners`: told about every refusal (the audit log listens).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from arq.connections import ArqRedis

from core.context import ChatContext
from core.media.codecs import MediaError, sniff
from core.media.sizes import human_limit, human_size
from core.media.untrusted import UntrustedMedia
from core.queue.blobs import BlobStore, MediaBudgetExceeded, Upload
from core.queue.jobs import JobQueue
from core.service.grammar import (
    HELP_TEXT,
    MAX_SEED,
    CommandError,
    ParsedCommand,
    check_reference_limits,
    check_references,
    frames_for,
    named_references,
    parse_command,
    resolve_meme,
    size_for,
)
from core.service.texts import error_text, queued_text
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind, MediaRef, MediaType, Requester

log = logging.getLogger(__name__)

BUTTON_PREFIX = "rs"
BUTTON_ACTIONS = ("reroll", "vary", "animate", "report")


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
    private: bool = False  # show only to the member (Discord ephemeral), where the platform can
    extra: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """A guard's refusal; the message tells the member why and what they can do."""

    def __init__(self, message: str, reason: str = "policy") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class Guard(Protocol):
    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None: ...

    async def undo(self, request: GenerationRequest) -> None: ...


GuardStage = Literal["request", "media"]


def guard_stage(guard: Guard) -> GuardStage:
    """When a guard runs: "request" (before anything is stored) only if it says so, else "media"."""
    return "request" if getattr(guard, "stage", "media") == "request" else "media"


@dataclass(frozen=True)
class CommandCall:
    service: Reelsmith
    requester: Requester
    ctx: ChatContext
    args: str
    attachments: list[Attachment]


CommandHandler = Callable[[CommandCall], Awaitable[Outcome]]
ActionHandler = Callable[["Reelsmith", Requester, ChatContext, str], Awaitable[Outcome]]
RefusalListener = Callable[[Requester, str, str], Awaitable[None]]


def button_data(action: str, job_id: str) -> str:
    """Button payload: `rs:<action>:<job_id>`, under Telegram's 64 bytes and Discord's 100 chars."""
    return f"{BUTTON_PREFIX}:{action}:{job_id}"


def parse_button_data(data: str) -> tuple[str, str] | None:
    """(action, job_id) from a button payload, or None if it is not one of ours."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != BUTTON_PREFIX or not parts[2].isalnum() or len(parts[2]) > 32:
        return None
    return parts[1], parts[2]


class Reelsmith:
    """The platform-neutral service facade. One per process, shared by its adapters."""

    def __init__(self, settings: Settings, redis: ArqRedis) -> None:
        self.settings = settings
        self.redis = redis
        self.blobs = BlobStore(redis, settings)
        self.queue = JobQueue(redis, settings)
        self.guards: list[Guard] = []
        self.commands: dict[str, CommandHandler] = {}
        self.command_help: dict[str, str] = {}
        self.actions: dict[str, ActionHandler] = {
            "reroll": _reroll, "vary": _vary, "animate": _animate_result, "report": _report_default,
        }
        self.refusal_listeners: list[RefusalListener] = []

    # ---- registration -------------------------------------------------------------------
    def add_command(self, name: str, handler: CommandHandler, help_line: str = "") -> None:
        self.commands[name] = handler
        if help_line:
            self.command_help[name] = help_line

    def help_text(self) -> str:
        extra = "\n".join(f"/{name} - {line}" for name, line in self.command_help.items())
        return HELP_TEXT + (("\n\nMore:\n" + extra) if extra else "")

    # ---- commands -----------------------------------------------------------------------
    def parse(self, text: str) -> ParsedCommand:
        s = self.settings
        return parse_command(text, max_prompt_chars=s.max_prompt_chars, max_steps=s.max_steps,
                             max_frames=s.max_frames, max_duration_s=s.max_frames / s.video_fps,
                             extra_commands=self.commands.keys())

    async def handle(self, requester: Requester, text: str, attachments: list[Attachment] | None = None,
                     ctx: ChatContext | None = None) -> Outcome:
        """Answer any chat command: generation commands are queued, others dispatched to their handler."""
        ctx = ctx or ChatContext()
        try:
            parsed = self.parse(text)
        except CommandError as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        if parsed.kind is None and parsed.command in self.commands:
            try:
                return await self.commands[parsed.command](
                    CommandCall(self, requester, ctx, parsed.args, attachments or []))
            except (CommandError, MediaError) as exc:
                return Outcome(error_text(str(exc)), ok=False, private=True)
            except Refusal as exc:
                await self._refused(requester, exc)
                return Outcome(error_text(exc.message), ok=False, private=True)
        return await self.submit(requester, text, attachments, ctx=ctx, parsed=parsed)

    async def submit(self, requester: Requester, text: str, attachments: list[Attachment] | None = None,
                     *, seed: int | None = None, ctx: ChatContext | None = None,
                     parsed: ParsedCommand | None = None) -> Outcome:
        """Validate and queue a generation command. Bad input is answered here and costs nothing."""
        ctx = ctx or ChatContext()
        try:
            parsed = parsed or self.parse(text)
            if parsed.kind is None:
                return Outcome(self.help_text(), ok=True, private=True)
            parsed = self.resolve_media(parsed, attachments or [])
            refs = await self._check_references(parsed, attachments or [])
            request = self.build_request(parsed, requester, [ref for ref, _ in refs], seed=seed)
        except (CommandError, MediaError) as exc:
            return Outcome(error_text(str(exc)), ok=False, private=True)
        return await self.enqueue(request, ctx, [upload for _, upload in refs])

    async def enqueue(self, request: GenerationRequest, ctx: ChatContext,
                      uploads: list[Upload] | None = None) -> Outcome:
        """Run the request guards, store `uploads` (the request's new attachments), run the media guards, queue.

        Anything a guard took is given back, and whatever was stored here deleted, if queueing does not happen.
        """
        passed: list[Guard] = []
        stored: list[str] = []
        try:
            for guard in self._guards("request"):
                await guard.check(request, ctx)
                passed.append(guard)
            stored = await self._store(request.requester, uploads or [])
            for guard in self._guards("media"):
                await guard.check(request, ctx)
                passed.append(guard)
            position = await self.queue.enqueue(request)
        except Refusal as exc:
            await self._give_back(request, passed, stored)
            await self._refused(request.requester, exc)
            return Outcome(error_text(exc.message), ok=False, private=True)
        except BaseException:
            await self._give_back(request, passed, stored)
            raise
        log.info("queued job %s kind=%s platform=%s", request.job_id, request.kind, request.requester.platform)
        return Outcome(queued_text(position), ok=True, job_id=request.job_id, position=position, request=request)

    def _guards(self, stage: GuardStage) -> list[Guard]:
        return [g for g in self.guards if guard_stage(g) == stage]

    async def _store(self, requester: Requester, uploads: list[Upload]) -> list[str]:
        """Store a request's attachments under the member's byte budget; a request over it is refused."""
        try:
            await self.blobs.put_owned(blob_owner(requester), uploads)
        except MediaBudgetExceeded as exc:
            raise Refusal(exc.message, reason="media_budget") from exc
        return [u.blob_id for u in uploads]

    async def _give_back(self, request: GenerationRequest, passed: list[Guard], stored: list[str]) -> None:
        """A request that was not queued: delete what it stored, then undo its guards (latest first)."""
        try:
            await self.blobs.delete(stored, owner=blob_owner(request.requester))
        except Exception:
            log.exception("could not delete the attachments of job %s", request.job_id)
        await self._undo(passed, request)

    async def _undo(self, passed: list[Guard], request: GenerationRequest) -> None:
        for guard in reversed(passed):
            try:
                await guard.undo(request)
            except Exception:
                log.exception("undo of %s for job %s failed", type(guard).__name__, request.job_id)

    async def _refused(self, requester: Requester, exc: Refusal) -> None:
        for listener in self.refusal_listeners:
            try:
                await listener(requester, exc.reason, exc.message)
            except Exception:
                log.exception("refusal listener failed")

    def resolve_media(self, parsed: ParsedCommand, attachments: list[Attachment]) -> ParsedCommand:
        """Check references against limits and @-names, and settle what the command makes with them.

        Runs on sniffed types before anything is stored, so a request that breaks a rule costs nothing.
        """
        s = self.settings
        counts = {"image": 0, "video": 0, "audio": 0}
        for att in attachments:
            sniffed = sniff(att.data)
            if sniffed is not None:
                counts[sniffed.media_type.value] += 1
        check_reference_limits(counts, {"image": s.max_image_refs, "video": s.max_video_refs,
                                        "audio": s.max_audio_refs})
        if parsed.kind == JobKind.MEME:
            parsed = resolve_meme(parsed, has_media=bool(counts["image"] or counts["video"]))
        check_references(parsed.prompt, counts)
        kind = parsed.kind
        # The first reference of a kind drives the job: /imagine with an image edits it, /video animates it.
        if kind == JobKind.IMAGE and counts["image"]:
            kind = JobKind.EDIT
        elif kind == JobKind.VIDEO and counts["image"] and not counts["video"]:
            kind = JobKind.ANIMATE
        if counts["audio"] and not (kind is not None and (kind.is_video or (kind == JobKind.MEME
                                                                             and counts["video"]))):
            raise CommandError(f"An audio file goes with a video: use /video or /animate, not /{parsed.command}.")
        if parsed.fit_audio and not counts["audio"]:
            raise CommandError("--fit-audio needs an audio file: attach one (MP3, M4A, OGG or WAV) "
                               "or reply to a message that has one.")
        if parsed.output_format == "gif" and counts["audio"]:
            raise CommandError("GIFs have no sound: drop --format gif to get an MP4 with your audio.")
        return replace(parsed, kind=kind)

    def build_request(self, parsed: ParsedCommand, requester: Requester, refs: list[MediaRef],
                      *, seed: int | None = None) -> GenerationRequest:
        s = self.settings
        assert parsed.kind is not None
        kind = parsed.kind
        refs = primary_first(refs, parsed.prompt)
        notes: list[str] = []
        long_side = s.video_size() if kind.is_video else s.image_size()
        width, height = size_for(parsed.aspect_ratio, long_side)
        frames = 1
        if kind.is_video:
            audio = next((r for r in refs if r.media_type == MediaType.AUDIO), None)
            duration = parsed.duration_s
            if parsed.fit_audio and audio is not None and audio.duration_s:
                duration = audio.duration_s
                if duration * s.video_fps > s.max_frames:
                    notes.append(f"the clip stops at {s.max_frames / s.video_fps:.1f} s (the longest allowed); "
                                 "the audio was cut there")
            frames = frames_for(parsed.frames, duration, s.video_fps, s.frames_default(), s.max_frames)
        if kind == JobKind.MEME:
            # Its size (and so its cost) is the member's picture as the worker renders it: shrunk to meme_max_side.
            source = next(r for r in refs if r.media_type in (MediaType.IMAGE, MediaType.VIDEO))
            width, height = _within(source.width or width, source.height or height, s.meme_max_side)
        chosen_seed = parsed.seed if parsed.seed is not None else seed
        return GenerationRequest(
            requester=requester,
            kind=kind,
            prompt=parsed.prompt,
            negative_prompt=parsed.negative_prompt,
            aspect_ratio=parsed.aspect_ratio,
            width=width,
            height=height,
            seed=chosen_seed if chosen_seed is not None else random_seed(),
            steps=parsed.steps or min(s.steps_default(), s.max_steps),
            num_frames=frames,
            fps=s.video_fps,
            references=refs,
            meme_top=parsed.top_text,
            meme_bottom=parsed.bottom_text,
            fit_audio=parsed.fit_audio,
            output_format="gif" if parsed.output_format == "gif" else "mp4" if parsed.output_format else "auto",
            notes=notes,
        )

    async def _check_references(self, parsed: ParsedCommand,
                                attachments: list[Attachment]) -> list[tuple[MediaRef, Upload]]:
        """Check every attachment from its bytes, in memory: nothing is stored before the request guards pass."""
        assert parsed.kind is not None
        refs = [await self.check_attachment(att) for att in attachments]
        if parsed.kind.needs_image and not any(r.media_type in (MediaType.IMAGE, MediaType.VIDEO) for r, _ in refs):
            raise CommandError(
                f"/{parsed.command} needs an image: attach one to your message, or reply to a message "
                f"that has one, e.g. /{parsed.command} {parsed.prompt or 'make it snow'}"
            )
        return refs

    async def check_attachment(self, att: Attachment) -> tuple[MediaRef, Upload]:
        """Check an attachment from its bytes: its reference for the job, and the upload that stores it."""
        s = self.settings
        name = safe_filename(att.filename)
        size = len(att.data)
        if size == 0:
            raise MediaError(f"{name or 'The attached file'} is empty.")
        if size > s.max_reference_bytes:
            raise MediaError(
                f"{name or 'That file'} is {human_size(size)}; the limit is "
                f"{human_limit(s.max_reference_bytes)}. Send a smaller file."
            )
        kind = sniff(att.data)
        if kind is None:
            raise MediaError(
                f"{name or 'That file'} is not a supported image, video or audio file "
                "(PNG, JPEG, WebP, GIF, MP4, WebM, MP3, OGG, WAV, M4A)."
            )
        # Decoded once, completely, in a limited helper process: what fails here costs nothing, and
        # what passes will decode in the job.
        checked = await UntrustedMedia(s).check(att.data, kind, s.max_frames)
        upload = Upload(self.blobs.new_id(), att.data, kind.mime)
        return MediaRef(blob_key=upload.blob_id, mime=kind.mime, media_type=kind.media_type, name=name, size=size,
                        width=checked.width, height=checked.height, duration_s=checked.duration_s), upload

    async def media(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime of a stored result or reference."""
        return await self.blobs.get(blob_id)

    # ---- result buttons -----------------------------------------------------------------
    async def action(self, requester: Requester, ctx: ChatContext, data: str) -> Outcome:
        """Handle a result button press from its payload. Foreign, expired or unknown data is refused politely."""
        parsed = parse_button_data(data)
        if parsed is None or parsed[0] not in self.actions:
            return Outcome("That button isn't one I know. Send a new command instead.", ok=False, private=True)
        action, job_id = parsed
        return await self.actions[action](self, requester, ctx, job_id)

    async def job_for_button(self, requester: Requester, job_id: str) -> tuple[GenerationRequest,
                                                                              GenerationReply | None]:
        """The original request (and its reply) behind a button; refuses other chats' and expired jobs."""
        original = await self.queue.load_request(job_id)
        if original is None:
            raise Refusal("That result is too old; its buttons have expired. Send a new command.", "expired")
        if (original.requester.platform, original.requester.chat_id) != (requester.platform, requester.chat_id):
            raise Refusal("That button belongs to another chat.", "foreign")
        return original, await self.queue.load_reply(job_id)


def _within(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def blob_owner(requester: Requester) -> str:
    """Whose storage budget a member's attachments count against."""
    return f"{requester.platform}:{requester.user_id}"


def safe_filename(name: str) -> str:
    """The bare file name of an attachment: adapters may pass a download URL (Telegram's carries the
    bot token), which must never reach job payloads, Redis or logs."""
    base = name.split("?", 1)[0].split("#", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return base[:100]


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def primary_first(refs: list[MediaRef], prompt: str) -> list[MediaRef]:
    """References with, per kind, those the prompt names first (in the order named): `@image2` then drives."""
    by_kind: dict[str, list[MediaRef]] = {}
    for ref in refs:
        by_kind.setdefault(ref.media_type.value, []).append(ref)
    order: dict[str, list[int]] = {}
    for kind, n in named_references(prompt):
        if n - 1 not in order.setdefault(kind, []) and n <= len(by_kind.get(kind, [])):
            order[kind].append(n - 1)
    out: list[MediaRef] = []
    for kind, items in by_kind.items():
        named = order.get(kind, [])
        out += [items[i] for i in named] + [r for i, r in enumerate(items) if i not in named]
    return out


async def _derived(service: Reelsmith, requester: Requester, ctx: ChatContext, job_id: str,
                   make: Callable[[GenerationRequest, GenerationReply | None], GenerationRequest]) -> Outcome:
    try:
        original, reply = await service.job_for_button(requester, job_id)
        request = make(original, reply)
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    return await service.enqueue(request, ctx)


def _fresh(original: GenerationRequest, requester: Requester, **changes: object) -> GenerationRequest:
    data = original.model_dump()
    data.pop("job_id")
    data.pop("created_at")
    data["requester"] = requester.model_dump()
    data["seed"] = random_seed()
    data["notes"] = []  # said about the original; the new job finds its own
    data.update(changes)
    return GenerationRequest.model_validate(data)


def _result_image(reply: GenerationReply | None) -> MediaRef:
    if reply is None or reply.error or not reply.media or not reply.media[0].mime.startswith("image/"):
        raise Refusal("This button needs a finished image result.", "invalid")
    m = reply.media[0]
    return MediaRef(blob_key=m.blob_key, mime=m.mime, media_type=MediaType.IMAGE, name=m.filename,
                    size=m.size, width=m.width, height=m.height)


async def _reroll(service: Reelsmith, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Same prompt and settings, new seed."""
    return await _derived(service, requester, ctx, job_id, lambda o, _r: _fresh(o, requester))


async def _vary(service: Reelsmith, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """A close variation: the result re-rendered (image-to-image) with a new seed; videos are rerolled."""
    def make(o: GenerationRequest, r: GenerationReply | None) -> GenerationRequest:
        if o.kind.is_video:
            return _fresh(o, requester)
        # The result already shows any meme captions: do not draw them twice.
        return _fresh(o, requester, kind=JobKind.EDIT, references=[_result_image(r).model_dump()],
                      meme_top="", meme_bottom="")
    return await _derived(service, requester, ctx, job_id, make)


async def _animate_result(service: Reelsmith, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Turn an image result into a video."""
    s = service.settings

    def make(o: GenerationRequest, r: GenerationReply | None) -> GenerationRequest:
        ref = _result_image(r)
        width, height = size_for(o.aspect_ratio, s.video_size())
        frames = frames_for(None, None, s.video_fps, s.frames_default(), s.max_frames)
        return _fresh(o, requester, kind=JobKind.ANIMATE, references=[ref.model_dump()], width=width,
                      height=height, num_frames=frames, fps=s.video_fps, meme_top="", meme_bottom="")
    return await _derived(service, requester, ctx, job_id, make)


async def _report_default(service: Reelsmith, requester: Requester, ctx: ChatContext, job_id: str) -> Outcome:
    """Without the moderation module: record the report for the owner."""
    try:
        await service.job_for_button(requester, job_id)
    except Refusal as exc:
        return Outcome(error_text(exc.message), ok=False, private=True)
    await service.redis.xadd(service.settings.key("reports"),
                             {"job_id": job_id, "by": requester.user_id, "chat": requester.chat_id})
    return Outcome("Thanks, the moderators will review this result.", ok=True, private=True)
