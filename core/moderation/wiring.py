"""Plug moderation into a service: guards first in line, `/mod` and `/avatar`, report and review buttons."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.moderation.audit import Clock
from core.moderation.commands import ModCommands
from core.moderation.guards import BanGuard, ConsentGuard, NsfwGuard, PromptGuard, SwitchGuard
from core.moderation.reports import Reports
from core.moderation.toolkit import Finalizer, Moderation, QuotaAdmin
from core.service.facade import Reelsmith


def install(service: Reelsmith, *, quota: QuotaAdmin | None = None,
            finalizers: Callable[[], list[Finalizer]] = list, clock: Clock = time.time) -> Moderation:
    mod = Moderation.build(service, quota=quota, finalizers=finalizers, clock=clock)
    # At the front, cheapest first: later guards (quotas) never take credits for a request refused here.
    service.guards[:0] = [BanGuard(mod), SwitchGuard(mod), PromptGuard(mod), NsfwGuard(mod), ConsentGuard(mod)]
    reports = Reports(mod)
    reports.register(service)
    commands = ModCommands(mod, reports)
    service.add_command("mod", commands.handle, "moderator tools (/mod help)")
    service.add_command("avatar", commands.avatar, "verify your likeness with a selfie (for references with faces)")
    service.refusal_listeners.append(mod.log_refusal)
    return mod
