"""`/models`: what this member may use here, one line each; moderators' `allow`, `deny`, `default`, `reset`."""

from __future__ import annotations

from core.contract import CommandCall, Outcome
from core.errors import CommandError
from core.i18n import N_, _, translate
from core.model_access.choice import ModelAccess, Usable
from core.models.catalog import ModelEntry
from core.models.tasks import Task
from core.moderation.toolkit import Moderation

MODELS_HELP = N_("""/models - the models you can use here; pick one with --model NAME
Moderators (this chat only; on Discord, this server):
/models deny <name> - turn a model off here;  /models allow <name> - turn it back on
/models default <name> [task] - this chat's default for the model's tasks (or one task, e.g. text-to-video)
/models reset - back to the owner's defaults, nothing turned off""")


def _tasks(tasks: list[Task] | tuple[Task, ...]) -> str:
    """Task names as members type them (`/models default NAME text-to-video`): not translated."""
    return ", ".join(t.value for t in tasks)


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
            return Outcome(translate(MODELS_HELP), ok=True, private=True)
        if sub not in ("allow", "deny", "default", "reset"):
            raise CommandError(_("Unknown /models command {command}.", command=repr(sub[:20])) + "\n\n"
                               + translate(MODELS_HELP))
        self.mod.require_moderator(call.requester, call.ctx, f"/models {sub}")
        text = await getattr(self, f"_{sub}")(call, tokens[1:])
        return Outcome(text, ok=True, private=True)

    # ---- the listing --------------------------------------------------------------------
    async def listing(self, call: CommandCall) -> str:
        usable = await self.access.usable(call.requester, call.ctx)
        if not usable.models:
            return _("No model is available to you here. Ask a moderator (/models allow) or the owner.")
        defaults: dict[str, list[Task]] = {}
        for task in self.access.catalog.tasks:
            entry = self.access.default_for(task, usable)
            if entry is not None:
                defaults.setdefault(entry.name, []).append(task)
        lines = [_("Models you can use here (pick one with --model NAME):")]
        for entry in usable.models:
            notes = [_tasks(entry.tasks)]
            if entry.name in defaults:
                notes.append(_("default here for {tasks}", tasks=_tasks(sorted(defaults[entry.name]))))
            if entry.cost != 1:
                notes.append(_("costs \u00d7{factor}", factor=f"{entry.cost:g}"))
            if entry.title:
                notes.append(entry.title)
            lines.append(f"\u2022 {entry.name} - " + "; ".join(notes))
        off = sorted(n for n, why in usable.why_not.items() if why.code == "denied")
        if off:
            lines.append(_("Turned off here: {models} (a moderator can /models allow NAME).", models=", ".join(off)))
        missing = [t for t in Task if t in self.access.catalog.tasks and t not in
                   {t for ts in defaults.values() for t in ts}]
        if missing:
            lines.append(_("Nothing you can use here does: {tasks}.", tasks=_tasks(missing)))
        return "\n".join(lines)

    # ---- moderators ---------------------------------------------------------------------
    def _entry(self, tokens: list[str], usage: str) -> ModelEntry:
        if not tokens:
            raise CommandError(_("Name a model. Usage: {usage}", usage=usage))
        entry = self.access.catalog.entry(tokens[0])
        if entry is None:
            names = ", ".join(self.access.catalog.entries)
            raise CommandError(_("There is no model called {model}. Models: {models}.", model=repr(tokens[0][:48]),
                                 models=names))
        return entry

    def _owner_keeps(self, call: CommandCall, entry: ModelEntry) -> None:
        who = call.requester
        if entry.scopes and f"{who.platform}:{who.scope}" not in entry.scopes:
            raise CommandError(_("The owner offers {model} only in other chats; moderators here can't change "
                                 "that.", model=entry.name))

    async def _deny(self, call: CommandCall, tokens: list[str]) -> str:
        entry = self._entry(tokens, "/models deny <name>")
        who = call.requester
        await self.access.rules.deny(who.platform, who.scope, entry.name)
        await self.mod.log_action(who, "models deny", entry.name)
        return _("{model} is turned off in this chat. /models allow {model} turns it back on.", model=entry.name)

    async def _allow(self, call: CommandCall, tokens: list[str]) -> str:
        entry = self._entry(tokens, "/models allow <name>")
        self._owner_keeps(call, entry)
        who = call.requester
        was_off = await self.access.rules.allow(who.platform, who.scope, entry.name)
        await self.mod.log_action(who, "models allow", entry.name)
        text = (_("{model} is on again in this chat.", model=entry.name) if was_off
                else _("{model} was not turned off here; members can use it.", model=entry.name))
        if entry.tiers:
            text += " " + _("It is for members of these tiers: {tiers}.", tiers=", ".join(entry.tiers))
        return text

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
                raise CommandError(_("{value} is not a task; {model} does {tasks}. Usage: {usage}",
                                     value=repr(tokens[1][:30]), model=entry.name, tasks=_tasks(entry.tasks),
                                     usage=usage)) from exc
            if not entry.serves(task):
                raise CommandError(_("{model} can't do {task}; it does {tasks}.", model=entry.name, task=task.value,
                                     tasks=_tasks(entry.tasks)))
            tasks = [task]
        rules = await self.access.rules.get(who.platform, who.scope)
        if entry.name in rules.denied:
            raise CommandError(_("{model} is turned off here; /models allow {model} first.", model=entry.name))
        await self.access.rules.set_default(who.platform, who.scope, entry.name, tasks)
        await self.mod.log_action(who, "models default", f"{entry.name} for {_tasks(tasks)}")
        return _("{model} is now this chat's default for {tasks}.", model=entry.name, tasks=_tasks(tasks))

    async def _reset(self, call: CommandCall, tokens: list[str]) -> str:
        who = call.requester
        await self.access.rules.reset(who.platform, who.scope)
        await self.mod.log_action(who, "models reset")
        return _("This chat's model rules are reset: every model is on, and the owner's defaults apply.")


def usable_names(usable: Usable, task: Task | None) -> list[str]:
    """The usable models' names (for `task`, when given): what Discord's autocomplete offers."""
    def fits(entry: ModelEntry) -> bool:
        # An image-to-image model upscales too, by refining a resized copy (core.generation.upscale).
        return task is None or entry.serves(task) or (task == Task.UPSCALE and entry.serves(Task.IMAGE_TO_IMAGE))

    return [e.name for e in usable.models if fits(e)]
