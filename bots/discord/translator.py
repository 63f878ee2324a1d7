"""Command descriptions in each shipped language (Discord's `description_localizations`), from core's catalogs.

discord.py asks the tree's `Translator` for every string of every command when it syncs them; names stay
English (members type them, and they match core's commands), descriptions are translated: the menu lines
(`bots.menus.command_menu`, as made in each locale), the typed commands' own descriptions, their options'
descriptions and choice names (where a catalog has them), and the message menus' names ("Edit this").
"""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands

from core.i18n import SHIPPED, from_platform, translate, use_locale

Location = app_commands.TranslationContextLocation
_DESCRIPTIONS = (Location.command_description, Location.group_description)
# Also option descriptions and choice names; and a message menu's name (Edit this), which members pick, not type.
_TRANSLATED = (*_DESCRIPTIONS, Location.parameter_description, Location.choice_name)
Describe = Callable[[str], str]  # a menu line -> the description Discord shows (`commands._description`)
MenuLines = Callable[[], dict[str, str]]  # command name -> its menu line, in the current locale


class CatalogTranslator(app_commands.Translator):
    """Descriptions from core's catalogs, by Discord locale (`pt-BR` -> pt_BR); None where English stands."""

    def __init__(self, menu_lines: MenuLines, describe: Describe) -> None:
        super().__init__()
        english = menu_lines()
        self._menus: dict[str, dict[str, str]] = {}
        for locale in SHIPPED:
            with use_locale(locale):
                lines = menu_lines()
            self._menus[locale] = {describe(line): describe(lines[name]) for name, line in english.items()
                                   if name in lines}

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        where = context.location
        if not (where in _TRANSLATED or (where is Location.command_name
                                         and isinstance(context.data, app_commands.ContextMenu))):
            return None  # slash command and option names stay English: members type them
        ours = from_platform(locale.value)  # zh-TW reads English: Traditional Chinese is not shipped
        if ours not in self._menus or ours == "en":
            return None
        text = self._menus[ours].get(string.message) if where in _DESCRIPTIONS else None
        text = text or translate(string.message, ours)
        return text if text != string.message else None
