"""`/styles` (members: what this chat may use), `/styles add|remove` (this chat's moderators)."""

from __future__ import annotations

import re

from core.contract import CommandCall, Outcome
from core.errors import CommandError, Refusal
from core.moderation.toolkit import Moderation
from core.styles.catalog import Style, StyleError, check_aspect, check_name, check_template
from core.styles.chat_styles import ChatStyles

USAGE = ("/styles - the styles this chat may use (then /imagine <prompt> --style NAME)\n"
         "Moderators: /styles add <name> <template with {prompt}> [--no <negative>] [--ar W:H]; "
         "/styles remove <name>")
_FLAG_RE = re.compile(r"(?:(?<=\s)|^)--(?P<flag>no|ar)(?=\s|$)")


def parse_add(args: str) -> tuple[str, str, str, str]:
    """(name, template, negative, aspect) from `<name> <template> [--no <negative>] [--ar W:H]`."""
    name, _, rest = args.strip().partition(" ")
    if not name or not rest.strip():
        raise CommandError("Usage: /styles add <name> <template with {prompt}> [--no <negative>] [--ar W:H], "
                           "e.g. /styles add noir {prompt}, film noir, black and white --no color")
    marks = list(_FLAG_RE.finditer(rest))
    template = (rest[: marks[0].start()] if marks else rest).strip()
    values: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(rest)
        if m.group("flag") in values:
            raise CommandError(f"--{m.group('flag')} is given twice; keep one.")
        values[m.group("flag")] = rest[m.end():end].strip()
    return name, template, values.get("no", ""), values.get("ar", "")


class StyleCommands:
    def __init__(self, styles: ChatStyles, mod: Moderation) -> None:
        self.styles = styles
        self.mod = mod

    async def handle(self, call: CommandCall) -> Outcome:
        head, _, rest = call.args.strip().partition(" ")
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
        raise CommandError(f"Unknown /styles command {head[:20]!r}.\n{USAGE}")

    async def listing(self, call: CommandCall) -> Outcome:
        who = call.requester
        styles = await self.styles.available(who.platform, who.scope)
        if not styles:
            return Outcome("This chat has no styles yet. Moderators can add one: /styles add <name> "
                           "<template with {prompt}>", ok=True, private=True)
        lines = [style.summary() for style in styles.values()]
        return Outcome("Styles here (use --style NAME):\n" + "\n".join(lines), ok=True, private=True)

    async def add(self, call: CommandCall, args: str) -> Outcome:
        who, s = call.requester, self.mod.settings
        self.mod.require_moderator(who, call.ctx, "/styles add")
        raw_name, template, negative, aspect = parse_add(args)
        name = check_name(raw_name)
        check_template(template, s.max_style_template_chars)
        if len(negative) > s.max_style_template_chars:
            raise StyleError(f"The negative prompt is longer than {s.max_style_template_chars} characters.")
        if name in self.styles.owner:
            raise StyleError(f"{name} is one of the service's styles; pick another name.")
        existing = await self.styles.find(who.platform, who.scope, name)
        if existing is None and await self.styles.count(who.platform, who.scope) >= s.max_chat_styles:
            raise StyleError(f"This chat already has {s.max_chat_styles} styles; remove one first.")
        await self._check_words(call, template.replace("{prompt}", " "), "template")
        await self._check_words(call, negative, "negative prompt")
        style = Style(name=name, template=template, negative=negative, aspect=check_aspect(aspect), source="chat")
        await self.styles.add(who.platform, who.scope, style)
        await self.mod.log_action(who, "styles add", f"{name}: {template}")
        verb = "Updated" if existing is not None else "Added"
        return Outcome(f"{verb} style {name}. Use it with --style {name}.", ok=True)

    async def remove(self, call: CommandCall, args: str) -> Outcome:
        who = call.requester
        self.mod.require_moderator(who, call.ctx, "/styles remove")
        name = check_name(args.strip() or "?")
        if name in self.styles.owner:
            raise StyleError(f"{name} is one of the service's styles; only its owners can change those.")
        if not await self.styles.remove(who.platform, who.scope, name):
            raise StyleError(f"This chat has no style {name}. See /styles.")
        await self.mod.log_action(who, "styles remove", name)
        return Outcome(f"Removed style {name}.", ok=True)

    async def _check_words(self, call: CommandCall, text: str, what: str) -> None:
        """A style's words pass the same blocklists a prompt does (they become part of every prompt)."""
        if not text.strip():
            return
        who = call.requester
        flags = await self.mod.switches.chat(who.platform, who.scope)
        match = await self.mod.blocklists.check(text, who.platform, who.scope, protected="protected_off" not in flags)
        if match is not None:
            raise Refusal(f"That style's {what} contains \u201c{match.entry.text}\u201d, which is blocked here. "
                          "Rephrase without it.", reason="blocklist")
