"""Who may delete or cancel a job: its requester, and the moderators of its chat (server)."""

from __future__ import annotations

from core.context import ChatContext
from core.errors import Refusal
from core.i18n import N_, translate
from core.moderation.toolkit import Moderation
from core.types import GenerationRequest, Requester


def require_owner_or_moderator(mod: Moderation, who: Requester, ctx: ChatContext, request: GenerationRequest,
                               what: str) -> bool:
    """True if `who` made the job, False if a moderator acts on someone else's; raises Refusal otherwise."""
    author = request.requester
    if (author.platform, author.user_id) == (who.platform, who.user_id):
        return True
    if author.scope == who.scope and mod.is_moderator(who, ctx):
        return False
    raise Refusal(translate(_NOT_YOURS[what]), reason="not_yours")


# What a member may do to someone else's result only as a moderator (each a whole sentence to translate).
_NOT_YOURS = {
    "delete": N_("Only the member who asked for this result (or a moderator) can delete it. Send your own command to "
                 "make one you can manage."),
    "cancel": N_("Only the member who asked for this result (or a moderator) can cancel it. Send your own command to "
                 "make one you can manage."),
}
