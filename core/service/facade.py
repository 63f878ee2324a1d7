"""What every adapter calls: turn a chat command plus attachments into a queued job or a clear answer.

The service is assembled from a list of features (`core.contract.Feature`, listed in
`core/service/features.py`), after the built-in result buttons:
- request steps settle each request first (the model it runs on); a refusal there has taken nothing;
- guards are checked before a job is queued, by their order number. "request" guards (bans, switches,
  prompt, NSFW, quota) see only the request and run before anything is stored; "media" guards (consent:
  faces, voices) read the stored references and run after storing. Whatever this submission stored is
  deleted on any refusal or error (never blobs it did not store, such as a result a Vary/Animate button
  reuses), its bytes count against the member's storage budget no more, and each guard that passed undoes
  what it took, latest first: a refused request costs nothing.
- commands answer non-generation chat commands (`/quota`, `/mod`, `/verify` ...) by name;
- actions answer result and review buttons (`reroll`, `vary`, `animate`, `report` ...) by name;
- refusal listeners are told about every refusal (the audit log, metrics);
- the features' finalizers settle every job this process ends (`finisher`, e.g. `/mod cancel`).
A member's mistake (`core.errors.UserError`) is answered here, once, and queues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

from arq.connections import ArqRedis

from core.context import ChatContext
from core.contract import (
    ActionHandler,
    Attachment,
    CommandCall,
    CommandHandler,
    CommandStep,
    Feature,
    Guard,
    GuardSpec,
    GuardStage,
    Outcome,
    RefusalListener,
    RequestStep,
    ResultButton,
    Shaping,
    button_data,
    parse_button_data,
)
from core.derive import kept_for
from core.errors import Refusal, UserError, error_text
from core.i18n import _, current_locale, in_member_locale, translate, use_locale
from core.queue.blobs import BlobInfo, BlobStore, MediaBudgetExceeded, Upload
from core.queue.fairness import RELAX_TIER
from core.queue.finisher import JobFinisher
from core.queue.jobs import JobQueue
from core.service.actions import BUTTONS
from core.service.attachments import blob_owner, check_references
from core.service.buttons import result_buttons
from core.service.grammar import HELP_TEXT, ParsedCommand, parse_command
from core.service.requests import build_request, resolve_media
from core.service.texts import queued_text
from core.settings import Settings
from core.storage.media_store import MediaObject
from core.types import Button, GenerationReply, GenerationRequest, MediaRef, Requester

log = logging.getLogger(__name__)


class Reelsmith:
    """The platform-neutral service facade. One per process, shared by its adapters."""

    def __init__(self, settings: Settings, redis: ArqRedis, features: Sequence[Feature] = ()) -> None:
        self.settings = settings
        self.redis = redis
        self.blobs = BlobStore(redis, settings)
        self.queue = JobQueue(redis, settings)
        features = (BUTTONS, *features)
        self.command_steps: list[CommandStep] = [step for f in features for step in f.command_steps]
        self.request_steps: list[RequestStep] = [step for f in features for step in f.request_steps]
        self.guards: list[GuardSpec] = [g for f in features for g in f.guards]
        self.commands: dict[str, CommandHandler] = {}
        self.command_help: dict[str, str] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.buttons: dict[str, ResultButton] = {}
        self.status: dict[str, ResultButton] = {}
        for feature in features:
            for command in feature.commands:
                self.add_command(command.name, command.handler, command.help)
            self.actions.update(feature.actions)
            for button in feature.result_buttons:
                self.buttons[button.action] = button  # a later feature's button of that name takes its place
            self.status.update((b.action, b) for b in feature.status_buttons)
        self.refusal_listeners: list[RefusalListener] = [r for f in features for r in f.refusal_listeners]
        self.finisher = JobFinisher(redis, settings, [fin for f in features for fin in f.finalizers])

    # ---- registration -------------------------------------------------------------------
    def add_command(self, name: str, handler: CommandHandler, help_line: str = "") -> None:
        """Answer `/name` with `handler` (replacing one of that name); features declare theirs in `Feature`."""
        self.commands[name] = handler
        if help_line:
            self.command_help[name] = help_line

    def help_text(self) -> str:
        """/help in the current locale: the grammar's text, then every feature command's line."""
        extra = "\n".join(f"/{name} - {translate(line)}" for name, line in self.command_help.items())
        return translate(HELP_TEXT) + (("\n\n" + _("More:") + "\n" + extra) if extra else "")

    # ---- commands -----------------------------------------------------------------------
    def parse(self, text: str) -> ParsedCommand:
        s = self.settings
        return parse_command(text, max_prompt_chars=s.max_prompt_chars, max_steps=s.max_steps,
                             max_frames=s.max_frames, max_duration_s=s.max_frames / s.video_fps,
                             extra_commands=self.commands.keys())

    def build_request(self, parsed: ParsedCommand, requester: Requester, refs: list[MediaRef],
                      *, seed: int | None = None) -> GenerationRequest:
        """The job a resolved generation command asks for, under this service's settings."""
        return build_request(self.settings, parsed, requester, refs, seed=seed)

    @in_member_locale
    async def handle(self, requester: Requester, text: str, attachments: list[Attachment] | None = None,
                     ctx: ChatContext | None = None) -> Outcome:
        """Answer any chat command: generation commands are queued, others dispatched to their handler."""
        ctx = ctx or ChatContext()
        try:
            parsed = self.parse(text)
            if parsed.kind is None and parsed.command in self.commands:
                return await self.commands[parsed.command](
                    CommandCall(self, requester, ctx, parsed.args, attachments or []))
        except UserError as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        except Refusal as exc:
            await self._refused(requester, exc)
            return Outcome(error_text(exc.message), ok=False, private=True)
        return await self.submit(requester, text, attachments, ctx=ctx, parsed=parsed)

    @in_member_locale
    async def submit(self, requester: Requester, text: str, attachments: list[Attachment] | None = None,
                     *, seed: int | None = None, ctx: ChatContext | None = None,
                     parsed: ParsedCommand | None = None) -> Outcome:
        """Validate and queue a generation command. Bad input is answered here and costs nothing."""
        ctx = ctx or ChatContext()
        try:
            parsed = parsed or self.parse(text)
            if parsed.kind is None:
                return Outcome(self.help_text(), ok=True, private=True)
            parsed = resolve_media(self.settings, parsed, attachments or [])
            refs = await check_references(self.settings, self.blobs, parsed, attachments or [])
            request = self.build_request(parsed, requester, [ref for ref, _ in refs], seed=seed)
            for command_step in self.command_steps:
                request = await command_step(Shaping(self, request, ctx, aspect_given=parsed.aspect_given,
                                                       n_given=parsed.n_images is not None,
                                                       media={ref.blob_key: up.data for ref, up in refs}))
        except UserError as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        return await self.enqueue(request, ctx, [upload for _, upload in refs])

    @in_member_locale
    async def enqueue(self, request: GenerationRequest, ctx: ChatContext,
                      uploads: list[Upload] | None = None) -> Outcome:
        """Settle the request (the features' request steps, e.g. its model), run the request guards, store
        `uploads` (the request's new attachments), run the media guards, queue.

        Anything a guard took is given back, and whatever was stored here deleted, if queueing does not happen.
        """
        passed: list[Guard] = []
        stored: list[str] = []
        try:
            for step in self.request_steps:
                request = await step(request, ctx)
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
            return Outcome(error_text(exc.message), ok=False, private=True, extra=dict(exc.extra))
        except BaseException:
            await self._give_back(request, passed, stored)
            raise
        log.info("queued job %s kind=%s platform=%s", request.job_id, request.kind, request.requester.platform)
        return Outcome(queued_text(position, relax=request.tier == RELAX_TIER), ok=True, job_id=request.job_id,
                       position=position, request=request)

    def _guards(self, stage: GuardStage) -> list[Guard]:
        """One stage's guards by order number (stable: equal numbers keep the feature-list order)."""
        return [g.guard for g in sorted(self.guards, key=lambda g: g.order) if g.stage == stage]

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

    async def media(self, blob_id: str) -> tuple[bytes, str] | None:
        """Bytes and mime of a stored result or reference."""
        return await self.blobs.get(blob_id)

    async def open_media(self, blob_id: str) -> tuple[BlobInfo, MediaObject] | None:
        """A stored result or reference as a stream (close it when not read to the end), or None."""
        return await self.blobs.open(blob_id)

    async def media_url(self, blob_id: str) -> str | None:
        """A presigned URL for a stored medium when `media_presign_ttl_s` is set and the store hands them out."""
        ttl = self.settings.media_presign_ttl_s
        return await self.blobs.url(blob_id, ttl) if ttl else None

    # ---- result buttons -----------------------------------------------------------------
    @in_member_locale
    async def action(self, requester: Requester, ctx: ChatContext, data: str) -> Outcome:
        """Handle a result button press from its payload. Foreign, expired or unknown data is refused politely."""
        parsed = parse_button_data(data)
        if parsed is None or parsed[0] not in self.actions:
            return Outcome(_("That button isn't one I know. Send a new command instead."), ok=False, private=True)
        action, job_id = parsed
        if action not in self.buttons:  # review buttons and the like: their actions are idempotent themselves
            return await self.actions[action](self, requester, ctx, job_id)
        # A double click, a retried callback or a redelivered interaction is one press: it runs (and charges)
        # once. A press that was refused may be tried again at once.
        press = self.settings.key("press", requester.platform, requester.user_id, data)
        if not await self.redis.set(press, "1", nx=True, ex=self.settings.button_press_window_s):
            return Outcome(_("Already on it: that button was just pressed."), ok=False, private=True)
        try:
            outcome = await self.actions[action](self, requester, ctx, job_id)
        except BaseException:
            await self.redis.delete(press)
            raise
        if not outcome.ok:
            await self.redis.delete(press)
        return outcome

    def result_buttons(self, reply: GenerationReply, *, emoji: bool = False) -> list[Button]:
        """The buttons under a finished result (none under an error), as the features declared them."""
        return result_buttons(self.buttons.values(), reply, emoji=emoji)

    def status_buttons(self, job_id: str, *, emoji: bool = False, locale: str | None = None) -> list[Button]:
        """The buttons on a queued or running job's status message (Cancel), as the features declared them; in
        `locale` (the member's: `core.i18n.locale_of(outcome.request)`), else the current one."""
        with use_locale(locale) if locale else nullcontext(current_locale()):
            return [Button(label=f"{b.emoji} {translate(b.label)}" if emoji and b.emoji else translate(b.label),
                           data=button_data(b.action, job_id), row=b.row) for b in self.status.values()]

    def result_button(self, action: str) -> ResultButton | None:
        """The declared button of an action (its placement, whether it is private or queues a job)."""
        return self.buttons.get(action)

    async def job_for_button(self, requester: Requester, job_id: str) -> tuple[GenerationRequest,
                                                                              GenerationReply | None]:
        """The original request (and its reply) behind a button; refuses other chats' and expired jobs."""
        original = await self.queue.load_request(job_id)
        if original is None:
            raise Refusal(_("That result is too old: results and their buttons are kept for {kept}. Send a new "
                            "command.", kept=kept_for(self.settings.result_ttl_s)), "expired")
        if (original.requester.platform, original.requester.chat_id) != (requester.platform, requester.chat_id):
            raise Refusal(_("That button belongs to another chat."), "foreign")
        return original, await self.queue.load_reply(job_id)
