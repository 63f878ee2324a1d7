"""Choosing a model as a feature: the request step that settles a request's model before any guard, and
`/models` with its moderator subcommands."""

from __future__ import annotations

from core.contract import CommandSpec, Feature
from core.i18n import N_
from core.model_access.choice import ModelAccess
from core.model_access.commands import ModelCommands
from core.moderation.toolkit import Moderation


def model_access_feature(access: ModelAccess, mod: Moderation) -> Feature:
    """Its request step runs first in `Reelsmith.enqueue`: a task no usable model can do is refused before any
    guard takes credits or anything is stored."""
    commands = ModelCommands(access, mod)
    return Feature(
        name="models",
        request_steps=(access.settle,),
        commands=(CommandSpec("models", commands.handle, N_("the models you can use here (pick one with --model)")),),
    )
