"""Self-service as a feature: Copy, Edit and Delete under results, Cancel on status messages, /history,
/cancel and /delete, and the finalizer that keeps each member's history."""

from __future__ import annotations

from core.contract import CommandSpec, Feature, ResultButton, Row
from core.i18n import N_
from core.moderation.toolkit import Moderation
from core.selfservice.actions import PREFILL, SelfService

__all__ = ["PREFILL", "selfservice_feature"]


def selfservice_feature(mod: Moderation) -> Feature:
    """Listed before styles, so its command step records what the member typed before a style reshapes it."""
    s = SelfService(mod)
    return Feature(
        name="selfservice",
        command_steps=(s.history.remember_typed,),
        commands=(
            CommandSpec("history", s.history_command, N_("your latest results here, with Copy and Delete")),
            CommandSpec("cancel", s.cancel_command, N_("cancel your waiting or running job (/cancel [job])")),
            CommandSpec("delete", s.delete_command, N_("delete your latest result (/delete [job])")),
        ),
        actions={"copy": s.copy, "edit": s.edit, "delete": s.delete, "cancel": s.cancel},
        result_buttons=(
            ResultButton("copy", N_("Copy"), "\U0001f4cb", row=Row.MANAGE, private=True, queues=False),
            ResultButton("edit", N_("Edit"), "\u270f\ufe0f", row=Row.MANAGE, private=True, queues=False),
            ResultButton("delete", N_("Delete"), "\U0001f5d1\ufe0f", row=Row.MANAGE, private=True, queues=False),
        ),
        status_buttons=(ResultButton("cancel", N_("Cancel"), "\u274c", private=True, queues=False),),
        finalizers=(s.history.record,),
    )
