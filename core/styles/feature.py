"""Styles as a feature: the `--style` request step and the `/styles` command."""

from __future__ import annotations

from arq.connections import ArqRedis

from core.contract import CommandSpec, Feature
from core.i18n import N_
from core.models.catalog import catalog_for
from core.moderation.toolkit import Moderation
from core.styles.apply import ApplyStyle
from core.styles.catalog import load_styles
from core.styles.chat_styles import ChatStyles
from core.styles.commands import StyleCommands


def styles_feature(redis: ArqRedis, mod: Moderation) -> Feature:
    """Loads (and checks) the owner's styles file now, so a bad one stops start-up with a clear message."""
    owner = load_styles(mod.settings)
    if any(style.model for style in owner.values()):  # read the catalog only when a style names a model
        load_styles(mod.settings, models=set(catalog_for(mod.settings).entries))
    styles = ChatStyles(redis, mod.settings, owner)
    return Feature(
        name="styles",
        command_steps=(ApplyStyle(styles),),
        commands=(CommandSpec("styles", StyleCommands(styles, mod).handle,
                              N_("the styles this chat may use (--style NAME); moderators: /styles add|remove")),),
    )
