"""The checks every request passes before it is queued, and the one every result passes before it is sent;
each refusal says why and what to do. Their order is declared with the feature (core/moderation/feature.py).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from core.context import ChatContext
from core.contract import RequestStep, ResultFacts
from core.errors import MediaError, Refusal
from core.i18n import N_, _, duration_units, translate
from core.media.untrusted import UnreadableMedia
from core.moderation.bans import Ban
from core.moderation.blocklist import Entry, Match, find_match, index_for, parse_list
from core.moderation.identity import matches
from core.moderation.likeness import faces_in, reference_frames
from core.moderation.toolkit import Moderation
from core.types import GenerationRequest, MediaType

NSFW_FLAGGED_TEXT = N_("The model's safety checker flagged this result as age-restricted, which isn't allowed in "
                     "this channel. Nothing was charged; try a different prompt.")


class _Guard:
    def __init__(self, mod: Moderation) -> None:
        self.mod = mod

    async def undo(self, request: GenerationRequest) -> None:
        """Nothing to give back: these guards only look."""


class BanGuard(_Guard):
    """Platform bans hold everywhere, a chat's bans in its scope (every channel and thread of a Discord server).

    A private chat with the bot belongs to no community, so there a ban in *any* group or server holds: DMing
    the bot never escapes a ban. A member's own (user) install used inside a server is its own scope, yet that
    server's bans hold there too (`ChatContext.outer_scopes`). (Only members can be banned by a chat's
    moderators, so strangers cannot do this to you; leaving the chat does not lift it.)
    """

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        who = request.requester
        bans = self.mod.bans
        if (ban := await bans.get(who.platform, None, who.user_id)) is not None:
            raise Refusal(_("You are banned from generating with this service {span}.", span=self._span(ban))
                          + self._why(ban), reason="banned")
        for scope in (who.scope, *ctx.outer_scopes):
            if (ban := await bans.get(who.platform, scope, who.user_id)) is not None:
                raise Refusal(_("You are banned from generating in this chat {span}.", span=self._span(ban))
                              + self._why(ban), reason="banned")
        # The playground's console is "private" but moderated by its own user: that is not a DM with a stranger.
        if ctx.is_private and not ctx.is_moderator and await bans.banned_anywhere(who.platform, who.user_id):
            raise Refusal(_("You are banned from generating in a group or server this bot serves, so you can't use "
                            "it in private chats either while that ban lasts. Ask that chat's moderators about it."),
                          reason="banned")

    def _span(self, ban: Ban) -> str:
        return (_("until a moderator lifts it") if ban.until is None
                else _("for another {duration}", duration=duration_units(ban.until - self.mod.clock())))

    @staticmethod
    def _why(ban: Ban) -> str:
        return " " + _("Reason: {reason}.", reason=ban.reason) if ban.reason else ""


class SwitchGuard(_Guard):
    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        who = request.requester
        if await self.mod.switches.killed():
            raise Refusal(_("Generation is switched off everywhere by the service owner for now. Try again later."),
                          reason="killed")
        for scope in (who.scope, *ctx.outer_scopes):
            if "paused" in await self.mod.switches.chat(who.platform, scope):
                raise Refusal(_("Generation is paused in this chat by a moderator. Try again later."),
                              reason="paused")
        if ctx.channel_id and "disabled" in await self.mod.switches.channel(who.platform, who.scope, ctx.channel_id):
            raise Refusal(_("Generation is turned off in this channel. Try another channel of this chat."),
                          reason="channel_disabled")


def request_texts(request: GenerationRequest) -> list[tuple[str, str]]:
    """Every text of a request that reaches the model or the picture, with how a member would call it.

    The prompt already carries an applied style's template, and the negative prompt its negative.
    """
    return [(what, text) for what, text in (
        ("prompt", request.prompt), ("negative prompt (--no)", request.negative_prompt),
        ("top caption", request.meme_top), ("bottom caption", request.meme_bottom)) if text.strip()]


# How a refusal names the text it found something in (`request_texts`' names).
YOUR_TEXT = {"prompt": N_("Your prompt"), "negative prompt (--no)": N_("Your negative prompt (--no)"),
             "top caption": N_("Your top caption"), "bottom caption": N_("Your bottom caption")}


class PromptGuard(_Guard):
    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        who = request.requester
        flags = await self.mod.switches.chat(who.platform, who.scope)
        for what, text in request_texts(request):
            match = await self.mod.blocklists.check(text, who.platform, who.scope,
                                                    protected="protected_off" not in flags)
            if match is not None:
                self._refuse(match, what)

    @staticmethod
    def _refuse(match: Match, what: str) -> None:
        where_found = translate(YOUR_TEXT[what]) if what in YOUR_TEXT else f"Your {what}"
        if match.scope == "protected":
            raise Refusal(_(
                "{where_found} names \u201c{text}\u201d ({category}); this service doesn't generate protected "
                "characters, franchises or real public figures. Describe an original subject instead.",
                where_found=where_found, text=match.entry.text, category=match.entry.category), reason="blocklist")
        shown = _("a blocked pattern") if match.entry.pattern is not None else f"\u201c{match.entry.text}\u201d"
        if match.scope == "chat":
            text = _("{where_found} contains {shown}, which is on this chat's blocklist. Rephrase without it.",
                     where_found=where_found, shown=shown)
        else:
            text = _("{where_found} contains {shown}, which is on the service's blocklist. Rephrase without it.",
                     where_found=where_found, shown=shown)
        raise Refusal(text, reason="blocklist")


@lru_cache(maxsize=1)
def nsfw_terms() -> tuple[Entry, ...]:
    return parse_list(resources.files("core.moderation").joinpath("data/nsfw.txt").read_text("utf-8"))


@lru_cache(maxsize=1)
def _nsfw_index() -> list[tuple[Entry, str]]:
    return index_for([(e, "nsfw") for e in nsfw_terms()])


class NsfwGuard(_Guard):
    """Age-restricted prompts need the channel's NSFW switch on and a platform age gate (ctx.nsfw_allowed).

    The decision travels with the job (`GenerationRequest.nsfw_allowed`): where it is off, `nsfw_gate` refuses
    a result the model's own safety checker flagged.
    """

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        request.nsfw_allowed = await self.allowed(request, ctx)
        if request.nsfw_allowed:
            return
        if any(find_match(text, _nsfw_index()) is not None for _, text in request_texts(request)):
            raise Refusal(_("Age-restricted content isn't allowed in this channel. Moderators can allow it with "
                            "/mod nsfw on in a channel the platform marks as age-restricted."), reason="nsfw")

    async def allowed(self, request: GenerationRequest, ctx: ChatContext) -> bool:
        who = request.requester
        return ctx.nsfw_allowed and "nsfw" in await self.mod.switches.channel(who.platform, who.scope, ctx.channel_id)


def spoiler_step(mod: Moderation) -> RequestStep:
    """A request step: in a chat whose moderators turned spoilers on (`/mod spoiler on`), every result is hidden
    until clicked, as if the member had typed --spoiler."""
    async def step(request: GenerationRequest, ctx: ChatContext) -> GenerationRequest:
        who = request.requester
        if not request.spoiler and "spoiler" in await mod.switches.chat(who.platform, who.scope):
            request.spoiler = True
        return request

    return step


def nsfw_gate(request: GenerationRequest, facts: ResultFacts) -> str | None:
    """The worker's result gate: a result the model flagged is refused unless the job's channel allows it."""
    return translate(NSFW_FLAGGED_TEXT) if facts.flagged and not request.nsfw_allowed else None


class ConsentGuard(_Guard):
    """Every face in reference images and videos must be the requester's own (their verified avatar) or that of a
    member who granted them their likeness; voice references need a verified avatar, unless the chat allows them.

    It reads the stored references, so it runs in the media stage, after they are stored. Grants are read per
    request: a revocation holds from the next one.
    """

    async def check(self, request: GenerationRequest, ctx: ChatContext) -> None:
        if not request.references:
            return
        who = request.requester
        known: list[tuple[str, list[float]]] | None = None  # whose faces may appear: the requester's first
        for n, ref in enumerate(request.references, 1):
            if ref.media_type == MediaType.AUDIO:
                await self._voice(request)
                continue
            blob = await self.mod.blobs.get(ref.blob_key)
            if blob is None:
                continue  # expired: the worker answers that
            try:
                faces = await faces_in(await reference_frames(blob[0], ref.media_type, self.mod.settings),
                                       self.mod.settings)
            except UnreadableMedia as exc:
                # It could not be checked within the limits: consent fails closed.
                raise Refusal(f"I couldn't check reference {n} for faces: {exc}", reason="likeness") from None
            except MediaError:
                continue  # unreadable references were refused when stored
            if not faces:
                continue
            if known is None:
                known = await self._known(who.platform, who.user_id)
            own = bool(known) and known[0][0] == who.user_id
            threshold = self.mod.settings.consent_face_distance
            for face in faces:
                if matches(face.embedding, [vector for _, vector in known], threshold) is None:
                    raise Refusal(self._not_allowed(n, ref.name, who.user_id, own), reason="likeness")

    async def _known(self, platform: str, user_id: str) -> list[tuple[str, list[float]]]:
        """The faces this member may use: their own avatar's, then those of members who granted them theirs."""
        avatars = self.mod.avatars
        known = []
        for member in [user_id, *await avatars.grants.granters(platform, user_id)]:
            if (vector := await avatars.embedding(platform, member)) is not None:
                known.append((member, vector))
        return known

    @staticmethod
    def _not_allowed(n: int, name: str, user_id: str, own: bool) -> str:
        where = _("reference {n} ({name})", n=n, name=name) if name else _("reference {n}", n=n)
        if not own:
            return _("Your {where} shows a face. To protect people's likeness, a face in a reference must be "
                     "yours or belong to a member who granted you theirs: send /avatar with a selfie and a "
                     "moderator will approve it, or ask that person to /consent grant {user_id}. Or use a "
                     "reference without people.", where=where, user_id=user_id)
        return _("A face in your {where} is not yours: ask that person to /consent grant {user_id} (they need "
                 "a verified /avatar), or use a reference without them.", where=where, user_id=user_id)

    async def _voice(self, request: GenerationRequest) -> None:
        """Voices are not compared (no offline speaker model ships here): a verified avatar, or the chat's switch."""
        who = request.requester
        if await self.mod.avatars.verified(who.platform, who.user_id):
            return
        if "audio_refs" not in await self.mod.switches.chat(who.platform, who.scope):
            raise Refusal(_("Voice and audio references are only accepted from members with a verified avatar, "
                            "to protect people's voices. Send /avatar with a selfie and ask a moderator to approve "
                            "it."), reason="voice_consent")
