"""Moderation as a feature: its guards first in line, `/mod` and `/avatar`, `/consent`, the report and
review buttons, the audit log as a refusal listener, and the worker's NSFW result gate."""

from __future__ import annotations

from core.contract import LOOKING, CommandSpec, Feature, GuardSpec
from core.i18n import N_
from core.moderation.commands import ModCommands
from core.moderation.consent_commands import ConsentCommands
from core.moderation.guards import (
    BanGuard,
    ConsentGuard,
    NsfwGuard,
    PromptGuard,
    SwitchGuard,
    nsfw_gate,
    spoiler_step,
)
from core.moderation.reports import Reports
from core.moderation.toolkit import Moderation


def moderation_feature(mod: Moderation) -> Feature:
    """Moderation's part of the service and the worker.

    Its guards only look, so they come before those that take (quotas): a request refused here costs nothing.
    Among them, cheapest first; the reason a member sees is the first that refuses.
    """
    reports = Reports(mod)
    commands = ModCommands(mod, reports)
    return Feature(
        name="moderation",
        guards=(
            GuardSpec(BanGuard(mod), order=LOOKING + 10, stage="request"),
            GuardSpec(SwitchGuard(mod), order=LOOKING + 20, stage="request"),
            GuardSpec(PromptGuard(mod), order=LOOKING + 30, stage="request"),
            GuardSpec(NsfwGuard(mod), order=LOOKING + 40, stage="request"),
            # Face and voice detection is the only costly check; it reads the stored references.
            GuardSpec(ConsentGuard(mod), order=LOOKING + 50, stage="media"),
        ),
        commands=(
            CommandSpec("mod", commands.handle, N_("moderator tools (/mod help)")),
            CommandSpec("avatar", commands.avatar,
                        N_("verify your likeness with a selfie (for references with faces)")),
            CommandSpec("consent", ConsentCommands(mod).handle, N_("let another member use your likeness (/consent "
                        "grant|revoke <user>, /consent list)")),
        ),
        request_steps=(spoiler_step(mod),),
        actions=reports.actions(),
        refusal_listeners=(mod.log_refusal,),
        result_gates=(nsfw_gate,),
    )
