"""`/models`: what this member may use here, one line each; moderators' `allow`, `deny`, `default`, `reset`."""

from __future__ import annotations

from core.contract import CommandCall, Outcome
from core.errors import CommandError
from core.model_access.choice import ModelAccess, Usable
from core.models.catalog import ModelEntry
from core.models.tasks import Task
from core.moderation.toolkit import Moderation

MODELS_HELP = """/models - the models you can use here; pick one with --model NAME
Moderators (this chat only; on Discord, this server):
/models deny <name> - turn a model off here;  /models allow <name> - turn it back on
/models default <name> [task] - this chat's default for the model's tasks (or one task, e.g. text-to-video)
/models reset - back to the owner's defaults, nothing turned off"""


def _cost(entry: ModelEntry) -> str:
    return f"; costs \u00d7{entry.cost:g}" if entry.cost != 1 else ""


class ModelCommands:
    def __init__(self, access: ModelAccess, mod: Moderation) -> None:
        self.access = access
        self.mod = mod

    async def handle(self, call: CommandCall) -> Outcome:
        tokens = call.args.split()
        sub = tokens[0].lower() if tokens else ""
        if sub in ("", "list"):
            return Outcome(await self.listing(call), ok=True, private=True)
        if sub == "help":
            return Outcome(MODELS_HELP, ok=True, private=True)
        if sub not in ("allow", "deny", "default", "reset"):
            raise CommandError(f"Unknown /models command {sub[:20]!r}.\n\n{MODELS_HELP}")
        self.mod.require_moderator(call.requester, call.ctx, f"/models {sub}")
        text = await getattr(self, f"_{sub}")(call, tokens[1:])
        return Outcome(text, ok=True, private=True)

    # ---- the listing --------------------------------------------------------------------
    async def listing(self, call: CommandCall) -> str:
        usable = await self.access.usable(call.requester, call.ctx)
        if not usable.models:
            return "No model is available to you here. Ask a moderator (/models allow) or the owner."
        defaults: dict[str, list[Task]] = {}
        for task in self.access.catalog.tasks:
            entry = self.access.default_for(task, usable)
            if entry is not None:
                defaults.setdefault(entry.name, []).append(task)
        lines = ["Models you can use here (pick one with --model NAME):"]
        for entry in usable.models:
            line = f"\u2022 {entry.name} - {', '.join(t.value for t in entry.tasks)}"
            if entry.name in defaults:
                line += f"; default here for {', '.join(t.value for t in sorted(defaults[entry.name]))}"
            line += _cost(entry) + (f"; {entry.title}" if entry.title else "")
            lines.append(line)
        off = sorted(n for n, why in usable.why_not.items() if "turned off" in why)
        if off:
            lines.append(f"Turned off here: {', '.join(off)} (a moderator can /models allow NAME).")
        missing = [t.value for t in Task if t in self.access.catalog.tasks and t not in
                   {t for ts in defaults.values() for t in ts}]
        if missing:
            lines.append(f"Nothing you can use here does: {', '.join(missing)}.")
        return "\n".join(lines)

    # ---- moderators ---------------------------------------------------------------------
    def _entry(self, tokens: list[str], usage: str) -> ModelEntry:
        if not tokens:
            raise CommandError(f"Name a model. Usage: {usage}")
        entry = self.access.catalog.entry(tokens[0])
        if entry is None:
            names = ", ".join(self.access.catalog.entries)
            raise CommandError(f"There is no model called {tokens[0][:48]!r}. Models: {names}.")
        return entry

    def _owner_keeps(self, call: CommandCall, entry: ModelEntry) -> None:
        who = call.requester
        if entry.scopes and f"{who.platform}:{who.scope}" not in entry.scopes:
            raise CommandError(f"The owner offers {entry.name} only in other chats; moderators here can't change "
                               "that.")

    async def _deny(self, call: CommandCall, tokens: list[str]) -> str:
        entry = self._entry(tokens, "/models deny <name>")
        who = call.requester
        await self.access.rules.deny(who.platform, who.scope, entry.name)
        await self.mod.log_action(who, "models deny", entry.name)
        return f"{entry.name} is turned off in this chat. /models allow {entry.name} turns it back on."

    async def _allow(self, call: CommandCall, tokens: list[str]) -> str:
        entry = self._entry(tokens, "/models allow <name>")
        self._owner_keeps(call, entry)
        who = call.requester
        was_off = await self.access.rules.allow(who.platform, who.scope, entry.name)
        await self.mod.log_action(who, "models allow", entry.name)
        tiers = f" (for members of the {' or '.join(entry.tiers)} tier)" if entry.tiers else ""
        return (f"{entry.name} is on again in this chat{tiers}." if was_off
                else f"{entry.name} was not turned off here; members can use it{tiers}.")

    async def _default(self, call: CommandCall, tokens: list[str]) -> str:
        usage = "/models default <name> [task]"
        entry = self._entry(tokens, usage)
        self._owner_keeps(call, entry)
        who = call.requester
        tasks = list(entry.tasks)
        if len(tokens) > 1:
            try:
                task = Task(tokens[1].lower())
            except ValueError as exc:
                raise CommandError(f"{tokens[1][:30]!r} is not a task; {entry.name} does "
                                   f"{', '.join(t.value for t in entry.tasks)}. Usage: {usage}") from exc
            if not entry.serves(task):
                raise CommandError(f"{entry.name} can't do {task.value}; it does "
                                   f"{', '.join(t.value for t in entry.tasks)}.")
            tasks = [task]
        rules = await self.access.rules.get(who.platform, who.scope)
        if entry.name in rules.denied:
            raise CommandError(f"{entry.name} is turned off here; /models allow {entry.name} first.")
        await self.access.rules.set_default(who.platform, who.scope, entry.name, tasks)
        await self.mod.log_action(who, "models default", f"{entry.name} for {', '.join(t.value for t in tasks)}")
        return f"{entry.name} is now this chat's default for {', '.join(t.value for t in tasks)}."

    async def _reset(self, call: CommandCall, tokens: list[str]) -> str:
        who = call.requester
        await self.access.rules.reset(who.platform, who.scope)
        await self.mod.log_action(who, "models reset")
        return "This chat's model rules are reset: every model is on, and the owner's defaults apply."


def usable_names(usable: Usable, task: Task | None) -> list[str]:
    """The usable models' names (for `task`, when given): what Discord's autocomplete offers."""
    def fits(entry: ModelEntry) -> bool:
        # An image-to-image model upscales too, by refining a resized copy (core.generation.upscale).
        return task is None or entry.serves(task) or (task == Task.UPSCALE and entry.serves(Task.IMAGE_TO_IMAGE))

    return [e.name for e in usable.models if fits(e)]
