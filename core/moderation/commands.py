"""`/mod ...` (moderators) and `/avatar` (members): one grammar for every platform.

Users are named by id, by a Discord mention (`<@123>`), or, where the adapter passes
`ChatContext.extra["reply_user_id"]`, by replying to their message and leaving the user out.

A chat's moderators rule their scope (`Requester.scope`: the Telegram chat, the Discord server) and act only
on its members. What holds on the whole platform (avatars, overall credits, platform bans: `global` right
after the operation) is for configured owners/moderators and the review chat's moderators.
"""

from __future__ import annotations

import asyncio
import re

from core.billing.ledger import revenue_text
from core.context import ChatContext
from core.contract import CommandCall, Outcome
from core.errors import CommandError, Refusal
from core.i18n import N_, _, translate
from core.media.codecs import sniff
from core.media.untrusted import UntrustedMedia
from core.moderation.bans import parse_duration
from core.moderation.blocklist import BlocklistError
from core.moderation.identity import find_faces
from core.moderation.queue_admin import QueueAdmin
from core.moderation.reports import Reports
from core.moderation.switches import CHANNEL_FLAGS, CHAT_FLAGS
from core.moderation.toolkit import Moderation
from core.ops.usage import gpu_text
from core.quotas.relax import RelaxLane
from core.types import DeleteResult, MediaFile, MediaType, Requester

MOD_HELP = N_("""Moderator commands (this chat only; on Discord, this server):
/mod ban <user> [30m|2h|7d|1w] [reason] - stop a member generating here
/mod unban <user> - lift a ban;  /mod bans - who is banned
/mod quota set <user> <n|off> | quota grant <user> <n> | quota usage <user> - this chat's own limit for a member
/mod pause | resume - stop or restart generation in this chat
/mod channel on|off - allow or stop generation in this channel
/mod nsfw on|off - allow age-restricted prompts in this (age-restricted) channel
/mod audio on|off - accept voice/audio references from members without a verified avatar
/mod spoiler on|off - post every result here behind a spoiler (members can also add --spoiler)
/mod relax on|off - members out of credits here are queued free in the relax lane (runs when GPUs are idle)
/mod blocklist add <word, phrase or re:regex> | remove <entry> | list
/mod queue - waiting and running jobs;  /mod cancel <job> - cancel one (refunded)
/mod delete <job> - delete a result;  /mod audit [n] - the last n actions and refusals
/mod avatars - selfies from here awaiting review (decided in the review chat)
/mod status - this chat's switches
/models deny|allow <model> | default <model> [task] | reset - which models members may use here (/models help)
Review chat and configured moderators (everywhere on this platform): /mod avatar approve|reject|revoke <user>,
/mod ban|unban|bans global <user>, /mod quota set|grant|usage global <user> [n] (a member's overall credits),
/mod usage (revenue per credit pack, GPU minutes per tier), /mod refund <charge id> (Telegram Stars; owners only)
Owners only: /mod kill on|off (everywhere), /mod protected on|off (protected-names list here),
/mod blocklist add|remove|list global ...""")

_MENTION_RE = re.compile(r"^<@!?(\d{1,32})>$")
_USER_RE = re.compile(r"^@?([A-Za-z0-9_.:-]{1,64})$")
_JOB_RE = re.compile(r"^[0-9a-f]{1,32}$")


def _on_off(tokens: list[str], usage: str) -> bool:
    if len(tokens) != 1 or tokens[0].lower() not in ("on", "off"):
        raise CommandError(_("Usage: {usage}", usage=usage))
    return tokens[0].lower() == "on"


def _user(tokens: list[str], ctx: ChatContext, usage: str) -> tuple[str, list[str]]:
    """The named user and the remaining tokens."""
    mention = _MENTION_RE.match(tokens[0]) if tokens else None
    if mention:
        return mention.group(1), tokens[1:]
    if ctx.extra.get("reply_user_id"):  # replying to a member's message names them
        return ctx.extra["reply_user_id"], tokens
    plain = _USER_RE.match(tokens[0]) if tokens else None
    if plain and parse_duration(tokens[0]) is None:
        return plain.group(1), tokens[1:]
    raise CommandError(_("Name a user (their id or a mention), or reply to their message. Usage: {usage}",
                         usage=usage))


def _global(tokens: list[str]) -> tuple[bool, list[str]]:
    """Whether the command is platform-wide (`global` first), and the remaining tokens."""
    if tokens and tokens[0].lower() == "global":
        return True, tokens[1:]
    return False, tokens


def _job(tokens: list[str], usage: str) -> str:
    if len(tokens) != 1 or not _JOB_RE.match(tokens[0].lower()):
        raise CommandError(_("Give the job id shown under the result. Usage: {usage}", usage=usage))
    return tokens[0].lower()


def _count(raw: str, usage: str, lo: int = 0) -> int:
    if not re.fullmatch(r"\d{1,9}", raw) or int(raw) < lo:
        raise CommandError(_("{value} is not a valid number. Usage: {usage}", value=repr(raw[:20]), usage=usage))
    return int(raw)


class ModCommands:
    def __init__(self, mod: Moderation, reports: Reports) -> None:
        self.mod = mod
        self.reports = reports
        self.queue = QueueAdmin(mod)

    async def avatar(self, call: CommandCall) -> Outcome:
        """`/avatar` with a selfie: submit it for a moderator to verify."""
        who = call.requester
        # An avatar verified before faces were kept may be sent again, to bind it to the member's face.
        if await self.mod.avatars.embedding(who.platform, who.user_id) is not None:
            return Outcome(_("You already have a verified avatar; references with your face are accepted."),
                           ok=True, private=True)
        if await self.mod.avatars.pending_for(who.platform, who.user_id) is not None:
            return Outcome(_("Your selfie is already waiting for a moderator; you'll be able to use face references "
                             "once it is approved."), ok=True, private=True)
        images = [a for a in call.attachments if (k := sniff(a.data)) is not None and k.media_type == MediaType.IMAGE]
        if len(images) != 1:
            raise CommandError(_("Send /avatar with one selfie attached: a clear photo of your own face."))
        att = images[0]
        s = self.mod.settings
        if len(att.data) > s.max_reference_bytes:
            raise CommandError(_("That photo is too large; send a smaller selfie."))
        image = await UntrustedMedia(s).image(att.data)
        faces = await asyncio.to_thread(find_faces, image, s.consent_min_face_fraction)
        if len(faces) != 1:
            raise CommandError(_("I couldn't find a face in that photo. Send a clear, front-facing selfie.")
                               if not faces else _("That photo shows more than one face. Send a selfie of only you."))
        kind = sniff(att.data)
        assert kind is not None
        blob = await self.mod.blobs.put(att.data, kind.mime, s.avatar_pending_ttl_s)
        req = await self.mod.avatars.submit(who.platform, who.user_id, who.chat_id, blob, who.display_name, who.scope,
                                            list(faces[0].embedding))
        media = MediaFile(blob_key=blob, mime=kind.mime, filename=f"avatar-{who.user_id}.{kind.extension}",
                          size=len(att.data), width=image.width, height=image.height)
        await self.reports.avatar_notice(who, req.request_id, media)
        await self.mod.audit.record("action", who.platform, who.scope, who.user_id, "avatar submitted")
        return Outcome(_("Thanks! A moderator will check your selfie. Once approved, you can use references that "
                         "show your face and voice notes."), ok=True, private=True)

    async def handle(self, call: CommandCall) -> Outcome:
        """`/mod <subcommand> ...`."""
        who, ctx = call.requester, call.ctx
        tokens = call.args.split()
        sub = tokens[0].lower() if tokens else "help"
        rest = tokens[1:]
        self.mod.require_moderator(who, ctx, f"/mod {sub}"[:40])
        handler = getattr(self, f"_sub_{sub}", None)
        if handler is None:
            raise CommandError(_("Unknown /mod command {command}.", command=repr(sub[:20])) + "\n\n"
                               + translate(MOD_HELP))
        result: Outcome = await handler(call, rest)
        return result

    # ---- subcommands: each takes (call, tokens after the subcommand) ----------------------
    async def _sub_help(self, call: CommandCall, tokens: list[str]) -> Outcome:
        return Outcome(translate(MOD_HELP), ok=True, private=True)

    async def _target(self, who: Requester, ctx: ChatContext, tokens: list[str], usage: str,
                      platform_wide: str = "") -> tuple[str, str | None, list[str]]:
        """(user, scope, remaining tokens) for a command that names a member.

        With `global` first, the command is platform-wide (scope None) and `platform_wide` names what it changes
        ("bans", "credits" or "avatars", see `Moderation.require_platform_moderator`);
        otherwise it rules this chat's scope and the user must be a member here.
        """
        is_global, tokens = _global(tokens) if platform_wide else (False, tokens)
        user, rest = _user(tokens, ctx, usage)
        if is_global:
            self.mod.require_platform_moderator(who, ctx, platform_wide)
            return user, None, rest
        await self.mod.require_member(who, ctx, user)
        return user, who.scope, rest

    async def _sub_ban(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        usage = "/mod ban [global] <user> [30m|2h|7d|1w] [reason]"
        user, scope, rest = await self._target(who, ctx, tokens, usage, "bans")
        seconds = parse_duration(rest[0]) if rest else None
        reason = " ".join(rest[1:] if seconds is not None else rest)
        ban = await self.mod.bans.ban(who.platform, scope, user, seconds=seconds, reason=reason, by=who.user_id)
        where = f" everywhere on {who.platform}" if scope is None else ""
        await self.mod.log_action(who, "ban", ban.describe(self.mod.clock()) + where)  # the log stays English
        shown = ban.shown(self.mod.clock())
        if scope is not None:
            return Outcome(f"\U0001f6ab {shown}.", ok=True, private=True)
        return Outcome("\U0001f6ab " + _("{ban}, everywhere on {platform}.", ban=shown, platform=who.platform),
                       ok=True, private=True)

    async def _sub_unban(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        platform_wide, tokens = _global(tokens)
        user, _scope = _user(tokens, ctx, "/mod unban [global] <user>")
        if platform_wide:
            self.mod.require_platform_moderator(who, ctx, "bans")
        # No membership check: lifting a ban only gives back what this chat took, also from members who left.
        scope = None if platform_wide else who.scope
        if not await self.mod.bans.unban(who.platform, scope, user):
            return Outcome(_("{user} is not banned platform-wide.", user=user) if platform_wide
                           else _("{user} is not banned here.", user=user), ok=False, private=True)
        await self.mod.log_action(who, "unban", user + (" (platform-wide)" if platform_wide else ""))
        return Outcome(_("{user} may generate again.", user=user), ok=True, private=True)

    async def _sub_bans(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        platform_wide, _rest = _global(tokens)
        if platform_wide:
            self.mod.require_platform_moderator(who, ctx, "bans")
        bans = await self.mod.bans.active(who.platform, None if platform_wide else who.scope)
        now = self.mod.clock()
        nobody = _("Nobody is banned platform-wide.") if platform_wide else _("Nobody is banned here.")
        return Outcome("\n".join(b.shown(now) for b in bans) or nobody, ok=True, private=True)

    async def _sub_quota(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        usage = ("/mod quota set <user> <n|off> | /mod quota grant <user> <n> | /mod quota usage <user> "
                 + _("(global after the operation: the member's overall credits)"))
        if not tokens or tokens[0].lower() not in ("set", "grant", "usage"):
            raise CommandError(_("Usage: {usage}", usage=usage))
        op = tokens[0].lower()
        user, scope, rest = await self._target(who, ctx, tokens[1:], usage, "credits")
        if self.mod.quota is None:
            return Outcome(_("Quotas are not enabled on this service."), ok=False, private=True)
        if op == "usage":
            return Outcome(await self.mod.quota.usage(who.platform, scope, user), ok=True, private=True)
        if len(rest) != 1:
            raise CommandError(_("Usage: {usage}", usage=usage))
        n: int | None
        if op == "set":
            n = None if rest[0].lower() == "off" else _count(rest[0], usage, lo=0)
            text = await self.mod.quota.set_limit(who.platform, scope, user, n)
        else:
            n = _count(rest[0], usage, lo=1)
            text = await self.mod.quota.grant(who.platform, scope, user, n)
        where = " (overall)" if scope is None else ""
        await self.mod.log_action(who, f"quota {op}", f"{user} {'off' if n is None else n}{where}")
        return Outcome(text, ok=True, private=True)

    async def _sub_usage(self, call: CommandCall, tokens: list[str]) -> Outcome:
        """`/mod usage <user>`: a member's credits; `/mod usage` alone: revenue per pack and GPU minutes per tier
        (platform-wide)."""
        if not tokens and "reply_user_id" not in call.ctx.extra:
            who = call.requester
            if not self.mod.is_platform_moderator(who, call.ctx):
                raise Refusal(_("Revenue figures are for the service's owners and moderators, or moderators in "
                                "its review chat. To see a member's credits: /mod usage <user>."),
                              reason="not_platform_moderator")
            revenue = await revenue_text(self.mod.redis, self.mod.settings, who.platform)
            gpu = await gpu_text(self.mod.redis, self.mod.settings, who.platform)
            return Outcome(f"{revenue}\n\n{gpu}", ok=True, private=True)
        return await self._sub_quota(call, ["usage", *tokens])

    async def _chat_switch(self, who: Requester, flag: str, on: bool, text: str) -> Outcome:
        await self.mod.switches.set_chat(who.platform, who.scope, flag, on)
        await self.mod.log_action(who, f"{flag} {'on' if on else 'off'}")
        return Outcome(text, ok=True)

    async def _sub_pause(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        return await self._chat_switch(who, "paused", True, "\u23f8\ufe0f " + _("Generation is paused in this chat."))

    async def _sub_resume(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        return await self._chat_switch(who, "paused", False, "\u25b6\ufe0f " + _("Generation is back on in this chat."))

    async def _sub_audio(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        on = _on_off(tokens, "/mod audio on|off")
        return await self._chat_switch(
            who, "audio_refs", on, _("Voice/audio references are now accepted from everyone here.") if on
            else _("Voice/audio references now need a verified avatar here."))

    async def _sub_spoiler(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        on = _on_off(tokens, "/mod spoiler on|off")
        return await self._chat_switch(
            who, "spoiler", on, _("Results here are now posted behind a spoiler.") if on
            else _("Results here are posted openly again (members can still add --spoiler)."))

    async def _sub_relax(self, call: CommandCall, tokens: list[str]) -> Outcome:
        """`/mod relax on|off`: whether members out of credits here are queued in the relax lane."""
        who = call.requester
        on = _on_off(tokens, "/mod relax on|off")
        lane = RelaxLane(self.mod.redis, self.mod.settings, self.mod.clock)
        if on and not self.mod.settings.relax_lane_allowed:
            return Outcome(_("The service's owners have turned the relax lane off everywhere "
                             "(REELSMITH_RELAX_LANE_ALLOWED), so it can't be turned on here."), ok=False, private=True)
        await lane.set_enabled(who.platform, who.scope, on)
        await self.mod.log_action(who, f"relax {'on' if on else 'off'}")
        return Outcome("\U0001f6cb\ufe0f " + _("Relax lane on: members out of credits here are queued at no charge, "
                                               "one job each, and their jobs run when the GPUs are idle.") if on else
                       _("Relax lane off: members out of credits here are refused until their credits come back."),
                       ok=True)

    async def _sub_protected(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        self.mod.require_owner(who, "/mod protected")
        on = _on_off(tokens, "/mod protected on|off")
        return await self._chat_switch(
            who, "protected_off", not on, _("The protected-names list applies here.") if on
            else _("The protected-names list is off in this chat (the chat's and global blocklists still apply)."))

    async def _sub_kill(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        self.mod.require_owner(who, "/mod kill")
        on = _on_off(tokens, "/mod kill on|off")
        await self.mod.switches.set_kill(on)
        await self.mod.log_action(who, f"kill {'on' if on else 'off'}")
        return Outcome("\U0001f6d1 " + _("Generation is off everywhere.") if on
                       else _("Generation is back on everywhere."), ok=True)

    async def _channel_switch(self, who: Requester, ctx: ChatContext, flag: str, on: bool, text: str) -> Outcome:
        channel = ctx.channel_id or who.chat_id
        await self.mod.switches.set_channel(who.platform, who.scope, channel, flag, on)
        await self.mod.log_action(who, f"{flag} {'on' if on else 'off'}", f"channel {channel}")
        return Outcome(text, ok=True, private=True)

    async def _sub_channel(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        on = _on_off(tokens, "/mod channel on|off")
        return await self._channel_switch(who, ctx, "disabled", not on, _("Generation is allowed in this channel.")
                                          if on else _("Generation is turned off in this channel."))

    async def _sub_nsfw(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        on = _on_off(tokens, "/mod nsfw on|off")
        note = "" if ctx.nsfw_allowed or not on else (
            " " + _("The platform doesn't mark this channel as age-restricted, so it stays off until it does."))
        return await self._channel_switch(who, ctx, "nsfw", on, (_("Age-restricted prompts are allowed in this "
                                          "channel.") + note) if on else _("Age-restricted prompts are refused here."))

    async def _sub_status(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        flags = await self.mod.switches.chat(who.platform, who.scope)
        channel = await self.mod.switches.channel(who.platform, who.scope, ctx.channel_id or who.chat_id)
        killed = await self.mod.switches.killed()
        lines = [_("Global kill switch is ON.") if killed else _("Global kill switch is off.")]
        lines += [translate(CHAT_FLAGS[f]) for f in sorted(flags) if f in CHAT_FLAGS]
        lines += [translate(CHANNEL_FLAGS[f]) for f in sorted(channel) if f in CHANNEL_FLAGS]
        if await RelaxLane(self.mod.redis, self.mod.settings, self.mod.clock).enabled(who.platform, who.scope):
            lines.append(_("the relax lane is on (members out of credits are queued free, run when GPUs are idle)"))
        return Outcome("\n".join(lines), ok=True, private=True)

    async def _sub_blocklist(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        usage = "/mod blocklist add <word, phrase or re:regex> | remove <entry> | list [global]"
        if not tokens or tokens[0].lower() not in ("add", "remove", "list"):
            raise CommandError(_("Usage: {usage}", usage=usage))
        op, rest = tokens[0].lower(), tokens[1:]
        scope: tuple[str | None, str | None] = (who.platform, who.scope)
        if rest and rest[0].lower() == "global":
            self.mod.require_owner(who, "/mod blocklist global")
            scope, rest = (None, None), rest[1:]
        is_global = scope[0] is None
        where = "the global blocklist" if is_global else "this chat's blocklist"  # for the (English) audit log
        if op == "list":
            entries = await self.mod.blocklists.entries(*scope)
            if entries:
                head = _("The global blocklist:") if is_global else _("This chat's blocklist:")
                return Outcome(head + "\n" + "\n".join(entries), ok=True, private=True)
            return Outcome(_("The global blocklist is empty (the protected-names list applies on top).") if is_global
                           else _("This chat's blocklist is empty (the protected-names list applies on top)."),
                           ok=True, private=True)
        entry = " ".join(rest)
        if not entry:
            raise CommandError(_("Usage: {usage}", usage=usage))
        if op == "add":
            try:
                added = await self.mod.blocklists.add(entry, *scope)
            except BlocklistError as exc:
                raise CommandError(str(exc)) from exc
            await self.mod.log_action(who, "blocklist add", f"{added.text} ({where})")
            return Outcome(_("Added \u201c{entry}\u201d to the global blocklist.", entry=added.text) if is_global
                           else _("Added \u201c{entry}\u201d to this chat's blocklist.", entry=added.text),
                           ok=True, private=True)
        if not await self.mod.blocklists.remove(entry, *scope):
            return Outcome(_("\u201c{entry}\u201d is not on the global blocklist.", entry=entry) if is_global
                           else _("\u201c{entry}\u201d is not on this chat's blocklist.", entry=entry),
                           ok=False, private=True)
        await self.mod.log_action(who, "blocklist remove", f"{entry} ({where})")
        return Outcome(_("Removed \u201c{entry}\u201d from the global blocklist.", entry=entry) if is_global
                       else _("Removed \u201c{entry}\u201d from this chat's blocklist.", entry=entry),
                       ok=True, private=True)

    async def _sub_queue(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        jobs = await self.queue.list(who.platform, who.scope)
        return Outcome("\n".join(j.line() for j in jobs) or _("No jobs waiting or running in this chat."),
                       ok=True, private=True)

    async def _sub_cancel(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        job_id = _job(tokens, "/mod cancel <job>")
        text = await self.queue.cancel(who, job_id, call.service.finisher)
        await self.mod.log_action(who, "cancel", f"job {job_id}")
        return Outcome(text, ok=True, private=True)

    async def _sub_delete(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        job_id = _job(tokens, "/mod delete <job>")
        request = await self.mod.queue.load_request(job_id)
        if request is None or (request.requester.platform, request.requester.scope) != (who.platform, who.scope):
            raise Refusal(_("There is no result of job {job_id} in this chat.", job_id=job_id), reason="invalid")
        await self.reports.bus.publish_delete(DeleteResult(platform=who.platform, job_id=job_id))
        await self.mod.log_action(who, "delete", f"job {job_id}")
        return Outcome(_("Deleting the result of job {job_id}.", job_id=job_id), ok=True, private=True)

    async def _sub_audit(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who = call.requester
        n = _count(tokens[0], "/mod audit [n]", lo=1) if tokens else 20
        entries = await self.mod.audit.recent(who.platform, who.scope, min(n, 100))
        return Outcome("\n".join(e.line() for e in entries) or _("Nothing logged here yet."), ok=True, private=True)

    async def _sub_avatar(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        usage = "/mod avatar approve|reject|revoke <user>"
        if not tokens or tokens[0].lower() not in ("approve", "reject", "revoke"):
            raise CommandError(_("Usage: {usage}", usage=usage))
        op = tokens[0].lower()
        user, _scope = _user(tokens[1:], ctx, usage)
        # A verified avatar is accepted in every chat, so no chat's moderators decide it.
        self.mod.require_platform_moderator(who, ctx, "avatars")
        if op == "revoke":
            if not await self.mod.avatars.revoke(who.platform, user):
                return Outcome(_("{user} has no verified avatar.", user=user), ok=False, private=True)
            await self.mod.log_action(who, "avatar revoked", user)
            return Outcome(_("{user}'s avatar is no longer verified.", user=user), ok=True, private=True)
        req = await self.mod.avatars.pending_for(who.platform, user)
        if req is None:
            return Outcome(_("{user} has no selfie awaiting review.", user=user), ok=False, private=True)
        return await self.reports.decide_avatar(who, req.request_id, op == "approve")

    async def _sub_avatars(self, call: CommandCall, tokens: list[str]) -> Outcome:
        who, ctx = call.requester, call.ctx
        everywhere = self.mod.is_platform_moderator(who, ctx)
        users = await self.mod.avatars.pending(who.platform, None if everywhere else who.scope)
        if not users:
            return Outcome(_("No selfies awaiting review."), ok=True, private=True)
        if everywhere:
            return Outcome(_("Selfies awaiting review: {users}", users=", ".join(users)), ok=True, private=True)
        return Outcome(_("Selfies awaiting review: {users} (the review chat decides them)", users=", ".join(users)),
                       ok=True, private=True)

