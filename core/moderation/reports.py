"""Reports and review buttons.

A member's Report button sends the result to the platform's review chat as a notice with Delete,
Ban user and Dismiss buttons; a selfie sent with /avatar arrives there with Approve and Reject.
Review buttons work only for moderators of the review chat (or configured moderators and owners), only on
their own platform's jobs, and only while the job's report is open (Delete and Ban once each; Dismiss
closes it), so the job ids printed in every caption are no handle on anyone's results.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from core.context import ChatContext
from core.contract import ActionHandler, Outcome, Service, button_data
from core.errors import Refusal, error_text
from core.i18n import _, use_locale
from core.moderation.toolkit import Moderation
from core.queue.connection import as_text
from core.queue.replies import ReplyBus
from core.types import Button, DeleteResult, GenerationRequest, MediaFile, Notice, Requester

REVIEW_ACTIONS = ("mdel", "mban", "mdis", "mava", "mrej")

# KEYS: 1 report record. ARGV: 1 action (delete, ban, dismiss), 2 moderator.
# 'ok' (recorded), 'closed' (no open report) or 'done' (this action was already taken on it).
_TAKE_ACTION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 'closed' end
local report = cjson.decode(raw)
if report['state'] ~= 'open' then return 'closed' end
local done = report['done'] or {}
for _, action in ipairs(done) do
  if action == ARGV[1] then return 'done' end
end
if ARGV[1] == 'dismiss' then report['state'] = 'dismissed' else table.insert(done, ARGV[1]) end
report['done'] = done
report[ARGV[1] .. '_by'] = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(report), 'KEEPTTL')
return 'ok'
"""


def review_chat(mod: Moderation, platform: str) -> str | None:
    return mod.review_chat(platform)


class Reports:
    def __init__(self, mod: Moderation) -> None:
        self.mod = mod
        self.bus = ReplyBus(mod.redis, mod.settings)
        self._take_action = mod.redis.register_script(_TAKE_ACTION)

    def _key(self, job_id: str) -> str:
        return self.mod.settings.key("mod", "report", job_id)

    def actions(self) -> Mapping[str, ActionHandler]:
        """The member's Report button (replacing the built-in one) and the review chat's buttons."""
        return {"report": self.report, "mdel": self._guarded(self.delete), "mban": self._guarded(self.ban),
                "mdis": self._guarded(self.dismiss), "mava": self._guarded(self.approve_avatar),
                "mrej": self._guarded(self.reject_avatar)}

    # ---- the member's side --------------------------------------------------------------
    async def report(self, service: Service, who: Requester, ctx: ChatContext, job_id: str) -> Outcome:
        try:
            request, reply = await service.job_for_button(who, job_id)
        except Refusal as exc:
            return Outcome(error_text(exc.message), ok=False, private=True)
        target = review_chat(self.mod, who.platform)
        record = {"by": who.user_id, "platform": who.platform, "state": "open", "done": []}
        if not await self.mod.redis.set(self._key(job_id), json.dumps(record), nx=True,
                                        ex=self.mod.settings.result_ttl_s):
            return Outcome(_("Thanks, this result has already been reported; the moderators will review it."),
                           ok=True, private=True)
        await self.mod.audit.record("report", who.platform, who.chat_id, who.user_id, "report",
                                    f"job {job_id} by {request.requester.user_id}")
        if target is None:
            # No review chat configured: the report stays in the audit log and the reports stream.
            await self.mod.redis.xadd(self.mod.settings.key("reports"),
                                      {"job_id": job_id, "by": who.user_id, "chat": who.chat_id})
        else:
            media: list[MediaFile] = reply.media if reply is not None else []
            # The notice is for the review chat, not the reporter: in the review chats' language.
            author = request.requester
            with use_locale(self.mod.settings.review_language):
                notice = Notice(
                    platform=who.platform, chat_id=target, ref=job_id, media=media,
                    text=_("\U0001f6a9 Report from {reporter} in chat {chat}\nJob {job} by {author} ({author_id}), "
                           "{kind}: {prompt}", reporter=who.display_name or who.user_id, chat=who.chat_id,
                           job=job_id, author=author.display_name or author.user_id, author_id=author.user_id,
                           kind=request.kind.value, prompt=request.prompt),
                    buttons=[Button(label=_("Delete"), data=button_data("mdel", job_id)),
                             Button(label=_("Ban user"), data=button_data("mban", job_id)),
                             Button(label=_("Dismiss"), data=button_data("mdis", job_id))],
                )
            await self.bus.publish_notice(notice)
        return Outcome(_("Thanks, the moderators will review this result."), ok=True, private=True)

    # ---- the review chat's side ---------------------------------------------------------
    def _guarded(self, handler: Callable[[Requester, str], Awaitable[Outcome]]) -> ActionHandler:
        async def run(service: Service, who: Requester, ctx: ChatContext, ref: str) -> Outcome:
            try:
                self._require_reviewer(who, ctx)
                return await handler(who, ref)
            except Refusal as exc:
                await self.mod.log_refusal(who, exc.reason, exc.message)
                return Outcome(error_text(exc.message), ok=False, private=True)
        return run

    def _require_reviewer(self, who: Requester, ctx: ChatContext) -> None:
        if not self.mod.is_platform_moderator(who, ctx):
            raise Refusal(_("Only moderators in the review chat can use these buttons."), reason="not_moderator")

    async def _reported(self, who: Requester, job_id: str) -> GenerationRequest:
        """The reported job, if it is the reviewer's platform's and its report is still open."""
        request = await self.mod.queue.load_request(job_id)
        if request is None:
            raise Refusal(_("That result has expired; nothing is left to act on."), reason="expired")
        if request.requester.platform != who.platform:
            raise Refusal(_("Job {job_id} was made on another platform; its own review chat handles it.",
                            job_id=job_id), reason="foreign")
        raw = await self.mod.redis.get(self._key(job_id))
        if raw is None or json.loads(raw).get("state") != "open":
            raise Refusal(_("There is no open report on job {job_id}; review buttons act only on reported results "
                            "that nobody has dismissed.", job_id=job_id), reason="no_report")
        return request

    async def _take(self, job_id: str, who: Requester, action: str) -> bool:
        """Record `action` on the open report; False if it was already taken (a second press)."""
        result = as_text(await self._take_action(keys=[self._key(job_id)], args=[action, who.user_id]))
        if result == "closed":
            raise Refusal(_("The report on job {job_id} was closed meanwhile.", job_id=job_id), reason="no_report")
        return result == "ok"

    async def delete(self, who: Requester, job_id: str) -> Outcome:
        request = await self._reported(who, job_id)
        # Deleting is idempotent, so act first: a failure leaves the report open for another press.
        await self.bus.publish_delete(DeleteResult(platform=request.requester.platform, job_id=job_id))
        if not await self._take(job_id, who, "delete"):
            return Outcome(_("The result of job {job_id} was already deleted.", job_id=job_id), ok=True)
        await self.mod.log_action(who, "delete", f"job {job_id} in chat {request.requester.chat_id} (report)")
        return Outcome(_("Deleted the result of job {job_id}.", job_id=job_id), ok=True)

    async def ban(self, who: Requester, job_id: str) -> Outcome:
        request = await self._reported(who, job_id)
        author = request.requester
        await self.mod.bans.ban(author.platform, author.scope, author.user_id, reason=f"reported job {job_id}",
                                by=who.user_id)
        name = author.display_name or author.user_id
        if not await self._take(job_id, who, "ban"):
            return Outcome(_("{user} is already banned for job {job_id}.", user=name, job_id=job_id), ok=True)
        await self.mod.log_action(who, "ban", f"{author.user_id} in chat {author.scope} (report on job {job_id})")
        return Outcome(_("Banned {user} from generating in chat {chat} until lifted (/mod unban there).", user=name,
                         chat=author.scope), ok=True)

    async def dismiss(self, who: Requester, job_id: str) -> Outcome:
        await self._reported(who, job_id)
        await self._take(job_id, who, "dismiss")
        await self.mod.log_action(who, "dismiss", f"report on job {job_id}")
        return Outcome(_("Dismissed the report on job {job_id}.", job_id=job_id), ok=True)

    async def approve_avatar(self, who: Requester, request_id: str) -> Outcome:
        return await self.decide_avatar(who, request_id, True)

    async def reject_avatar(self, who: Requester, request_id: str) -> Outcome:
        return await self.decide_avatar(who, request_id, False)

    async def decide_avatar(self, who: Requester, request_id: str, approve: bool) -> Outcome:
        req = await self.mod.avatars.request(request_id)
        if req is None or req.platform != who.platform:
            raise Refusal(_("That avatar request was already decided or has expired."), reason="expired")
        if req.user_id == who.user_id:
            raise Refusal(_("Nobody decides their own avatar: another moderator has to check your selfie."),
                          reason="own_avatar")
        if not await self.mod.avatars.decide(req, approve, who.user_id, who.chat_id):
            raise Refusal(_("That avatar request was already decided or has expired."), reason="expired")
        verb = "approved" if approve else "rejected"
        await self.mod.log_action(who, f"avatar {verb}", f"{req.user_id} (chat {req.chat_id})")
        name = req.display_name or req.user_id
        return Outcome(_("Avatar of {user} approved.", user=name) if approve
                       else _("Avatar of {user} rejected.", user=name), ok=True)

    async def avatar_notice(self, who: Requester, request_id: str, media: MediaFile) -> bool:
        """Send a submitted selfie to the review chat; False if there is none for this platform."""
        target = review_chat(self.mod, who.platform)
        if target is None:
            return False
        with use_locale(self.mod.settings.review_language):  # for the review chat, in its language
            notice = Notice(
                platform=who.platform, chat_id=target, ref=request_id, media=[media],
                text=_("\U0001f464 Avatar request from {member} ({user_id}) in chat {chat}. Approve only if this is "
                       "a selfie of that member.", member=who.display_name or who.user_id, user_id=who.user_id,
                       chat=who.chat_id),
                buttons=[Button(label=_("Approve"), data=button_data("mava", request_id)),
                         Button(label=_("Reject"), data=button_data("mrej", request_id))],
            )
        await self.bus.publish_notice(notice)
        return True
