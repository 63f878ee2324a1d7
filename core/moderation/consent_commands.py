"""`/consent grant|revoke <user>` and `/consent list`: a member lends (and takes back) their own likeness.

A grant holds on the whole platform, like the avatar it rests on: the grantee's references may show the
granter's face, which must match the granter's verified avatar. Users are named as in `/mod` (an id, a
Discord mention, or a reply to their message).
"""

from __future__ import annotations

from core.contract import CommandCall, Outcome
from core.errors import CommandError
from core.i18n import _
from core.moderation.commands import _user
from core.moderation.toolkit import Moderation

USAGE = "/consent grant <user> | revoke <user> | list"


class ConsentCommands:
    def __init__(self, mod: Moderation) -> None:
        self.mod = mod

    async def handle(self, call: CommandCall) -> Outcome:
        who = call.requester
        tokens = call.args.split()
        op = tokens[0].lower() if tokens else ""
        grants = self.mod.avatars.grants
        if op == "list" and len(tokens) == 1:
            given = await grants.given(who.platform, who.user_id)
            held = await grants.granters(who.platform, who.user_id)
            none = _("none")
            return Outcome(_("Members who may use your likeness: {users}.", users=", ".join(given) or none) + "\n"
                           + _("Members whose likeness you may use: {users}.", users=", ".join(held) or none),
                           ok=True, private=True)
        if op not in ("grant", "revoke"):
            raise CommandError(_("Usage: {usage}", usage=USAGE))
        user, rest = _user(tokens[1:], call.ctx, f"/consent {op} <user>")
        if rest:
            raise CommandError(_("Name one user. Usage: {usage}", usage=f"/consent {op} <user>"))
        if user == who.user_id:
            raise CommandError(_("Your own face needs no grant: it only needs your verified /avatar."))
        if op == "revoke":
            if not await grants.revoke(who.platform, who.user_id, user):
                return Outcome(_("{user} had no consent from you to revoke.", user=user), ok=False, private=True)
            await self.mod.audit.record("action", who.platform, who.scope, who.user_id, f"consent revoked: {user}")
            return Outcome(_("{user} may no longer use your likeness; jobs they send from now on are checked "
                             "without it.", user=user), ok=True, private=True)
        added = await grants.grant(who.platform, who.user_id, user)
        await self.mod.audit.record("action", who.platform, who.scope, who.user_id, f"consent granted: {user}")
        note = "" if await self.mod.avatars.embedding(who.platform, who.user_id) is not None else (
            " " + _("Your face is only recognised once you have a verified avatar: send /avatar with a selfie."))
        text = (_("{user} may now use references that show your face (until you /consent revoke {user}).", user=user)
                if added else _("{user} already had your consent (until you /consent revoke {user}).", user=user))
        return Outcome(text + note, ok=True, private=True)
