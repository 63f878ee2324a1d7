"""`/consent grant|revoke <user>` and `/consent list`: a member lends (and takes back) their own likeness.

A grant holds on the whole platform, like the avatar it rests on: the grantee's references may show the
granter's face, which must match the granter's verified avatar. Users are named as in `/mod` (an id, a
Discord mention, or a reply to their message).
"""

from __future__ import annotations

from core.contract import CommandCall, Outcome
from core.errors import CommandError
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
            return Outcome(f"Members who may use your likeness: {', '.join(given) or 'none'}.\n"
                           f"Members whose likeness you may use: {', '.join(held) or 'none'}.",
                           ok=True, private=True)
        if op not in ("grant", "revoke"):
            raise CommandError(f"Usage: {USAGE}")
        user, rest = _user(tokens[1:], call.ctx, f"/consent {op} <user>")
        if rest:
            raise CommandError(f"Name one user. Usage: /consent {op} <user>")
        if user == who.user_id:
            raise CommandError("Your own face needs no grant: it only needs your verified /avatar.")
        if op == "revoke":
            if not await grants.revoke(who.platform, who.user_id, user):
                return Outcome(f"{user} had no consent from you to revoke.", ok=False, private=True)
            await self.mod.audit.record("action", who.platform, who.scope, who.user_id, f"consent revoked: {user}")
            return Outcome(f"{user} may no longer use your likeness; jobs they send from now on are checked "
                           "without it.", ok=True, private=True)
        added = await grants.grant(who.platform, who.user_id, user)
        await self.mod.audit.record("action", who.platform, who.scope, who.user_id, f"consent granted: {user}")
        note = "" if await self.mod.avatars.embedding(who.platform, who.user_id) is not None else (
            " Your face is only recognised once you have a verified avatar: send /avatar with a selfie.")
        head = f"{user} may now use references that show your face" if added else f"{user} already had your consent"
        return Outcome(f"{head} (until you /consent revoke {user}).{note}", ok=True, private=True)
