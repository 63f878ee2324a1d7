"""Settling a request's model before anything is taken or stored: the explicit `--model`, else this chat's
default for the task, else the catalog's default among the models this member may use here; then the model's
defaults (steps, size, frames) where the member left the service's, and its cost factor.

A task no usable model can do is refused here, with what to configure, before any guard reserves credits.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from core.context import ChatContext
from core.errors import Refusal
from core.i18n import _, translate
from core.model_access.rules import ChatRules, ModelRules
from core.models.catalog import Catalog, ModelEntry, catalog_for
from core.models.task_texts import CANT, NO_MODEL_OF_KIND, NONE_USABLE, SERVERS_CANT
from core.models.tasks import Task, task_of
from core.quotas.book import TierMap
from core.settings import Settings
from core.types import GenerationRequest, JobKind, MediaType, Requester, size_for

VIDEO_TASKS = frozenset({Task.TEXT_TO_VIDEO, Task.IMAGE_TO_VIDEO, Task.VIDEO_TO_VIDEO, Task.AUDIO_VIDEO})


def task_for(request: GenerationRequest) -> Task | None:
    """The task a request asks of a model (None: a meme of the member's own picture needs none)."""
    if not request.kind.uses_model:
        return None
    if request.kind == JobKind.VIDEO and any(r.media_type == MediaType.VIDEO for r in request.references):
        return Task.VIDEO_TO_VIDEO  # a reference clip drives: restyling
    return task_of(request.kind)


def service_size(settings: Settings, kind: JobKind, aspect_ratio: str) -> tuple[int, int]:
    """The size `core.service.requests.build_request` gives a request of this kind and aspect by default."""
    return size_for(aspect_ratio, settings.video_size() if kind.is_video else settings.image_size())


@dataclass(frozen=True)
class WhyNot:
    """Why a member may not use a model here: "tier" (only for `tiers`), "scope" (not offered in this chat) or
    "denied" (a moderator turned it off). Put into words where shown, in the reader's language."""

    code: str
    tiers: tuple[str, ...] = ()

    def clause(self, model: str) -> str:
        """One of the reasons listed after a colon: "sd15 is turned off in this chat (...)"."""
        if self.code == "tier":
            return (_("{model} is only for members of the {tier} tier", model=model, tier=self.tiers[0])
                    if len(self.tiers) == 1 else
                    _("{model} is only for members of these tiers: {tiers}", model=model, tiers=", ".join(self.tiers)))
        if self.code == "scope":
            return _("{model} isn't offered in this chat", model=model)
        return _("{model} is turned off in this chat (a moderator can turn it back on with /models allow {model})",
                 model=model)

    def sentence(self, model: str) -> str:
        """The refusal of a named model, e.g. The model 'sd15' is turned off in this chat (...)."""
        quoted = repr(model)
        if self.code == "tier":
            return (_("The model {model} is only for members of the {tier} tier.", model=quoted, tier=self.tiers[0])
                    if len(self.tiers) == 1 else
                    _("The model {model} is only for members of these tiers: {tiers}.", model=quoted,
                      tiers=", ".join(self.tiers)))
        if self.code == "scope":
            return _("The model {model} isn't offered in this chat.", model=quoted)
        return _("The model {model} is turned off in this chat (a moderator can turn it back on with /models allow "
                 "{name}).", model=quoted, name=model)


@dataclass(frozen=True)
class Usable:
    """What one member may use in one chat: the models, and why each other one is not."""

    models: list[ModelEntry]
    rules: ChatRules
    why_not: dict[str, WhyNot]

    def pointer(self) -> str:
        """What a refusal points to instead, e.g. Models you can use: sd15, wan (see /models)."""
        if not self.models:
            return _("There are no models you can use here (see /models).")
        return _("Models you can use: {models} (see /models).", models=", ".join(e.name for e in self.models))


class ModelAccess:
    """Which models a member may use in a chat, and the model a request runs on."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.settings = settings
        self.rules = ModelRules(redis, settings)
        self.tiers = TierMap(settings)

    @property
    def catalog(self) -> Catalog:
        return catalog_for(self.settings)  # rebuilt when the owner edits the models file

    def tier(self, who: Requester, ctx: ChatContext) -> str:
        return self.tiers.for_member(who, ctx).name

    async def usable(self, who: Requester, ctx: ChatContext) -> Usable:
        """The models `who` may use in their chat: the owner's tiers and scopes, then the chat's denials."""
        rules = await self.rules.get(who.platform, who.scope)
        tier = self.tier(who, ctx)
        models: list[ModelEntry] = []
        why_not: dict[str, WhyNot] = {}
        for entry in self.catalog.entries.values():
            if entry.tiers and tier not in entry.tiers:
                why_not[entry.name] = WhyNot("tier", entry.tiers)
            elif entry.scopes and f"{who.platform}:{who.scope}" not in entry.scopes:
                why_not[entry.name] = WhyNot("scope")
            elif entry.name in rules.denied:
                why_not[entry.name] = WhyNot("denied")
            else:
                models.append(entry)
        return Usable(models, rules, why_not)

    def default_for(self, task: Task, usable: Usable) -> ModelEntry | None:
        """The model a task runs on when the member names none: the chat's default, else the catalog's."""
        named = usable.rules.defaults.get(task)
        chat_default = next((e for e in usable.models if e.name == named and e.serves(task)), None)
        return chat_default or self.catalog.default_for(task, usable.models)

    async def choose(self, request: GenerationRequest, ctx: ChatContext) -> ModelEntry | None:
        """The entry `request` runs on, or a Refusal that says what is wrong and what to do."""
        task = task_for(request)
        if task is None:
            return None
        usable = await self.usable(request.requester, ctx)
        if request.model:
            return self._named(request.model, task, usable, extend=request.kind == JobKind.EXTEND)
        entry = self.default_for(task, usable)
        if entry is None and task == Task.UPSCALE:
            # No upscaler: the image model refines a resized copy (core.generation.upscale).
            entry = self.default_for(Task.IMAGE_TO_IMAGE, usable)
        if entry is None and request.kind == JobKind.EXTEND:
            # No image-to-video model: one with a condition pipeline continues from the clip's last frames.
            entry = self.default_for(Task.VIDEO_TO_VIDEO, usable)
        if entry is None:
            raise Refusal(self._none_for(task, usable), reason="model")
        return entry

    def _named(self, name: str, task: Task, usable: Usable, *, extend: bool = False) -> ModelEntry:
        entry = self.catalog.entry(name)
        if entry is None:
            raise Refusal(_("There is no model called {model} here.", model=repr(name[:48])) + " " + usable.pointer(),
                          reason="model")
        if entry.name in usable.why_not:
            raise Refusal(usable.why_not[entry.name].sentence(entry.name) + " " + usable.pointer(), reason="model")
        if not entry.serves(task) and not (task == Task.UPSCALE and entry.serves(Task.IMAGE_TO_IMAGE)) and not (
                extend and entry.serves(Task.VIDEO_TO_VIDEO)):
            able = [e.name for e in usable.models if e.serves(task)]
            if not able:
                raise Refusal(self._none_for(task, usable), reason="model")
            raise Refusal(translate(CANT[task]).format(model=repr(entry.name), task=task.value) + " "
                          + _("Models here that can: {models}; pick one with --model, or leave --model out.",
                              models=", ".join(able)), reason="model")
        return entry

    def _none_for(self, task: Task, usable: Usable) -> str:
        """No usable model serves `task`: whose to fix (the owner's file, or this chat's rules) and how."""
        blocked = [(e.name, usable.why_not[e.name]) for e in self.catalog.serving(task)]
        if blocked:
            reasons = "; ".join(why.clause(name) for name, why in blocked)
            return translate(NONE_USABLE[task]).format(reasons=reasons)
        video = task in VIDEO_TASKS
        have = [e for e in self.catalog.entries.values() if e.is_video == video]
        return translate(SERVERS_CANT[task] if have else NO_MODEL_OF_KIND[task])

    async def settle(self, request: GenerationRequest, ctx: ChatContext) -> GenerationRequest:
        """The request on its model: `model`, `cost_factor` and the model's defaults filled in (a request step)."""
        entry = await self.choose(request, ctx)
        if entry is None:
            return request
        return apply_entry(self.settings, request, entry)


def apply_entry(settings: Settings, request: GenerationRequest, entry: ModelEntry) -> GenerationRequest:
    """The entry's defaults where the member left them unsaid (`request.typed` lists what they set).

    Tiny twins keep the service's tiny defaults.
    """
    changes: dict[str, object] = {"model": entry.name, "cost_factor": entry.cost}
    if request.kind in (JobKind.UPSCALE, JobKind.INPAINT):
        # Its size is the member's picture times the scale, or the canvas (core.canvas) already built.
        return request.model_copy(update=changes)
    if request.kind == JobKind.EXTEND:  # the source clip's size and rate; the run (added + 1) a valid length
        rule = None if entry.tiny else entry.spec.frames
        if rule is not None:
            changes["num_frames"] = max(1, rule.nearest(request.num_frames + 1) - 1)
        return request.model_copy(update=changes)
    if not entry.tiny:
        family = entry.spec
        if "steps" not in request.typed:
            changes["steps"] = min(entry.steps or family.steps, settings.max_steps)
        long_side = max(request.width, request.height)
        if (request.width, request.height) == service_size(settings, request.kind, request.aspect_ratio) and \
                entry.long_side:
            long_side = entry.long_side
        changes["width"], changes["height"] = size_for(request.aspect_ratio, long_side, family.multiple)
        if request.kind.is_video:
            if entry.fps:
                changes["fps"] = entry.fps
            frames = entry.frames if entry.frames and "frames" not in request.typed else request.num_frames
            if family.frames is not None:
                frames = family.frames.nearest(frames)
                while frames > settings.max_frames and frames > family.frames.step:
                    frames -= family.frames.step  # the longest valid length within the limit
            changes["num_frames"] = frames
    return request.model_copy(update=changes)
