"""Command menus (Telegram's command list, Discord's slash commands) generated from what core knows.

The grammar's commands come first, each described by its line in core's /help text, then every command
a feature registered, described by its help line: a command core answers is never missing from a menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import N_, translate
from core.service import COMMANDS, HELP_TEXT, Reelsmith

HELP_COMMAND_LINE = N_("what I can do")  # /help's own line in HELP_TEXT says "this message"


@dataclass(frozen=True)
class MenuEntry:
    name: str
    description: str


def grammar_lines(help_text: str | None = None) -> dict[str, str]:
    """`/name ... - description` lines of the /help text (in the current locale), by command name."""
    lines: dict[str, str] = {}
    for line in (help_text if help_text is not None else translate(HELP_TEXT)).splitlines():
        if line.startswith("/") and " - " in line:
            usage, description = line.split(" - ", 1)
            lines[usage[1:].split()[0]] = description.strip()
    return lines


def command_menu(service: Reelsmith) -> list[MenuEntry]:
    """Every command a member can send, once, in order: the grammar's, then the features' (described in the
    current locale)."""
    described = grammar_lines()
    described["help"] = translate(HELP_COMMAND_LINE)
    menu = {name: described.get(name, name) for name in COMMANDS}
    for name in service.commands:
        menu.setdefault(name, translate(service.command_help.get(name) or name))
    return [MenuEntry(name, description) for name, description in menu.items()]
