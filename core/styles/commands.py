"""`/styles` (members: what this chat may use), `/styles add|remove` (this chat's moderators)."""

from __future__ import annotations

import re

from core.contract import CommandCall, Outcome
from core.errors import CommandError, Refusal
from core.i18n import N_, _, translate
from core.moderation.toolkit import Moderation
from core.styles.catalog import Style, StyleError, check_aspect, check_name, check_template
from core.styles.chat_styles import ChatStyles

USAGE = N_("/styles - the styles this chat may use (then /imagine <prompt> --style NAME)\n"
           "Moderators: /styles add <name> <template with {prompt}> [--no <negative>] [--ar W:H]; "
           "/styles remove <name>")  # shown with translate(): {prompt} is literal here
_FLAG_RE = re.compile(r"(?:(?<=\s)|^)--(?P<flag>no|ar)(?=\s|$)")


def parse_add(args: str) -> tuple[str, str, str, str]:
    """(name, template, negative, aspect) from `<name> <template> [--no <negative>] [--ar W:H]`."""
    name, _sep, rest = args.strip().partition(" ")
    if not name or not rest.strip():
        raise CommandError(_("Usage: /styles add <name> <template with {prompt}> [--no <negative>] [--ar W:H], "
                             "e.g. /styles add noir {prompt}, film noir, black and white --no color"))
    marks = list(_FLAG_RE.finditer(rest))
    template = (rest[: marks[0].start()] if marks else rest).strip()
    values: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(rest)
        if m.group("flag") in values:
            raise CommandError(_("--{flag} is given twice; keep one.", flag=m.group("flag")))
        values[m.group("flag")] = rest[m.end():end].strip()
    return name, template, values.get("no", ""), values.get("ar", "")


class StyleCommands:
    def __init__(self, styles: ChatStyles, mod: Moderation) -> None:
        self.styles = styles
        self.mod = mod

    async def handle(self, call: CommandCall) -> Outcome:
        head, _sep, rest = call.args.strip().partition(" ")
        op = head.lower()
        try:
            if op in ("", "list"):
                return await self.listing(call)
            if op == "add":
                return await self.add(call, rest)
            if op in ("remove", "rm", "delete"):
                return await self.remove(call, rest)
        except StyleError as exc:
            raise CommandError(str(exc)) from exc
        raise CommandError(_("Unknown /styles command {command}.", command=repr(head[:20])) + "\n"
                           + translate(USAGE))

    async def listing(self, call: CommandCall) -> Outcome:
        who = call.requester
        styles = await self.styles.available(who.platform, who.scope)
        if not styles:
            return Outcome(_("This chat has no styles yet. Moderators can add one: /styles add <name> "
                             "<template with {prompt}>"), ok=True, private=True)
        lines = [style.summary() for style in styles.values()]
        return Outcome(_("Styles here (use --style NAME):") + "\n" + "\n".join(lines), ok=True, private=True)

    async def add(self, call: CommandCall, args: str) -> Outcome:
        who, s = call.requester, self.mod.settings
        self.mod.require_moderator(who, call.ctx, "/styles add")
        raw_name, template, negative, aspect = parse_add(args)
        name = check_name(raw_name)
        check_template(template, s.max_style_template_chars)
        if len(negative) > s.max_style_template_chars:
            raise StyleError(_("The negative prompt is longer than {n} characters.", n=s.max_style_template_chars))
        if name in self.styles.owner:
            raise StyleError(_("{name} is one of the service's styles; pick another name.", name=name))
        existing = await self.styles.find(who.platform, who.scope, name)
        if existing is None and await self.styles.count(who.platform, who.scope) >= s.max_chat_styles:
            raise StyleError(_("This chat already has {n} styles; remove one first.", n=s.max_chat_styles))
        await self._check_words(call, template.replace("{prompt}", " "), negative=False)
        await self._check_words(call, negative, negative=True)
        style = Style(name=name, template=template, negative=negative, aspect=check_aspect(aspect), source="chat")
        await self.styles.add(who.platform, who.scope, style)
        await self.mod.log_action(who, "styles add", f"{name}: {template}")
        return Outcome(_("Updated style {name}. Use it with --style {name}.", name=name) if existing is not None
                       else _("Added style {name}. Use it with --style {name}.", name=name), ok=True)

    async def remove(self, call: CommandCall, args: str) -> Outcome:
        who = call.requester
        self.mod.require_moderator(who, call.ctx, "/styles remove")
        name = check_name(args.strip() or "?")
        if name in self.styles.owner:
            raise StyleError(_("{name} is one of the service's styles; only its owners can change those.", name=name))
        if not await self.styles.remove(who.platform, who.scope, name):
            raise StyleError(_("This chat has no style {name}. See /styles.", name=name))
        await self.mod.log_action(who, "styles remove", name)
        return Outcome(_("Removed style {name}.", name=name), ok=True)

    async def _check_words(self, call: CommandCall, text: str, *, negative: bool) -> None:
        """A style's words pass the same blocklists a prompt does (they become part of every prompt)."""
        if not text.strip():
            return
        who = call.requester
        flags = await self.mod.switches.chat(who.platform, who.scope)
        match = await self.mod.blocklists.check(text, who.platform, who.scope, protected="protected_off" not in flags)
        if match is not None:
            word = match.entry.text
            raise Refusal(_("That style's negative prompt contains \u201c{word}\u201d, which is blocked here. Rephrase "
                            "without it.", word=word) if negative else
                          _("That style's template contains \u201c{word}\u201d, which is blocked here. Rephrase "
                            "without it.", word=word), reason="blocklist")
