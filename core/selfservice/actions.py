"""The self-service buttons (Copy, Edit, Delete under results; Cancel on status messages) and commands
(/history, /cancel, /delete)."""

from __future__ import annotations

from core.context import ChatContext
from core.contract import CommandCall, Outcome, Service, button_data
from core.errors import CommandError, Refusal, error_text
from core.i18n import _
from core.moderation.queue_admin import QueueAdmin
from core.moderation.toolkit import Moderation
from core.queue.finisher import is_cancelled
from core.queue.replies import ReplyBus
from core.selfservice.access import require_owner_or_moderator
from core.selfservice.command_text import command_text
from core.selfservice.history import History
from core.types import Button, DeleteResult, GenerationRequest, Requester

PREFILL = "prefill"  # Outcome.extra key: the text an adapter pre-fills for the member to edit and send
COMMAND = "command"  # Outcome.extra key: the command text as is (for adapters that show it their own way)
MAX_LINE = 90


def _block(text: str) -> str:
    return f"```\n{text}\n```"


class SelfService:
    def __init__(self, mod: Moderation) -> None:
        self.mod = mod
        self.history = History(mod.redis, mod.settings)
        self.bus = ReplyBus(mod.redis, mod.settings)
        self.queue_admin = QueueAdmin(mod)

    async def _command(self, request: GenerationRequest) -> str:
        return command_text(request, await self.history.typed(request.job_id) if request.style else None)

    # ---- Copy and Edit ------------------------------------------------------------------
    async def copy(self, service: Service, who: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            request, _reply = await service.job_for_button(who, job_id)
        except Refusal as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        text = await self._command(request)
        note = "" if not request.references else "\n" + _("Attach (or reply to) the same files when you send it.")
        return Outcome(_("The command for this result:") + f"\n{_block(text)}{note}", ok=True, private=True,
                       extra={COMMAND: text})

    async def edit(self, service: Service, who: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            request, _reply = await service.job_for_button(who, job_id)
        except Refusal as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        text = await self._command(request)
        return Outcome(_("Edit the command and send it:") + f"\n{_block(text)}", ok=True, private=True,
                       extra={COMMAND: text, PREFILL: text})

    # ---- Delete -------------------------------------------------------------------------
    async def delete(self, service: Service, who: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            request, reply = await service.job_for_button(who, job_id)
            own = require_owner_or_moderator(self.mod, who, ctx, request, "delete")
        except Refusal as exc:
            await self.mod.log_refusal(who, exc.reason, exc.message)
            return Outcome(error_text(exc.message), ok=False, private=True)
        if not await self.history.mark_deleted(job_id):
            return Outcome(_("That result was already deleted."), ok=True, private=True)
        # The messages go first (adapters delete idempotently), then the files; the provenance record stays.
        await self.bus.publish_delete(DeleteResult(platform=request.requester.platform, job_id=job_id))
        if reply is not None and reply.media:
            await service.blobs.delete([m.blob_key for m in reply.media])
        if not own:
            await self.mod.log_action(who, "delete", f"job {job_id} by {request.requester.user_id}")
        return Outcome("\U0001f5d1\ufe0f " + _("Deleted the result and its files."), ok=True, private=True)

    # ---- Cancel -------------------------------------------------------------------------
    async def cancel(self, service: Service, who: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            request, reply = await service.job_for_button(who, job_id)
            own = require_owner_or_moderator(self.mod, who, ctx, request, "cancel")
            if reply is not None:
                raise Refusal(_("That job was already cancelled; nothing was charged.") if is_cancelled(reply)
                              else _("That job has already finished: nothing left to cancel."), reason="invalid")
            text = await self.queue_admin.cancel(who, job_id, service.finisher)
        except Refusal as exc:
            await self.mod.log_refusal(who, exc.reason, exc.message)
            return Outcome(error_text(exc.message), ok=False, private=True)
        if not own:
            await self.mod.log_action(who, "cancel", f"job {job_id} by {request.requester.user_id}")
        return Outcome(text, ok=True, private=True)

    # ---- commands -----------------------------------------------------------------------
    async def history_command(self, call: CommandCall) -> Outcome:
        """`/history`: the member's last results here, newest first, each with Copy and Delete buttons."""
        who = call.requester
        lines: list[str] = []
        buttons: list[Button] = []
        for job_id in await self.history.recent(who):
            request = await call.service.queue.load_request(job_id)
            if request is None:
                continue
            n = len(lines) + 1
            text = await self._command(request)
            lines.append(f"{n}. {text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + chr(0x2026)}")
            row = (n - 1) // 5 * 2  # Copy 1-5 above Delete 1-5, then 6-10: four rows of five at most
            buttons += [Button(label=_("Copy {n}", n=n), data=button_data("copy", job_id), row=row),
                        Button(label=_("Delete {n}", n=n), data=button_data("delete", job_id), row=row + 1)]
        if not lines:
            return Outcome(_("You have no results here yet (or they have expired). Send /imagine <prompt> to "
                             "make one."), ok=True, private=True)
        return Outcome(_("Your latest results here, newest first:") + "\n" + "\n".join(lines), ok=True, private=True,
                       buttons=buttons)

    async def cancel_command(self, call: CommandCall) -> Outcome:
        """`/cancel [job]`: the member's own latest waiting or running job here, or the one named."""
        who = call.requester
        job_id = call.args.split()[0] if call.args.split() else ""
        if not job_id:
            mine = [j for j in await self.queue_admin.list(who.platform, who.scope) if j.user_id == who.user_id]
            if not mine:
                raise CommandError(_("You have no job waiting or running here."))
            job_id = mine[-1].job_id
        return await self.cancel(call.service, who, call.ctx, _job_id(job_id))

    async def delete_command(self, call: CommandCall) -> Outcome:
        """`/delete [job]`: the member's own latest result here, or the one named."""
        who = call.requester
        job_id = call.args.split()[0] if call.args.split() else ""
        if not job_id:
            recent = await self.history.recent(who)
            if not recent:
                raise CommandError(_("You have no result here to delete (see /history)."))
            job_id = recent[0]
        return await self.delete(call.service, who, call.ctx, _job_id(job_id))


def _job_id(text: str) -> str:
    if not (text.isalnum() and len(text) <= 32):
        raise CommandError(_("{text} is not a job id. Job ids are the letters and digits in a result's caption; "
                             "leave it out for your latest.", text=repr(text[:32])))
    return text
