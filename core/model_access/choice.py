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
from core.model_access.rules import ChatRules, ModelRules
from core.models.catalog import Catalog, ModelEntry, catalog_for
from core.models.tasks import DOES, Task, task_of
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


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


@dataclass(frozen=True)
class Usable:
    """What one member may use in one chat: the models, and why each other one is not."""

    models: list[ModelEntry]
    rules: ChatRules
    why_not: dict[str, str]  # name -> the reason, in words

    def names(self) -> str:
        return ", ".join(e.name for e in self.models) or "none"


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
        models, why_not = [], {}
        for entry in self.catalog.entries.values():
            if entry.tiers and tier not in entry.tiers:
                why_not[entry.name] = f"is only for members of the {' or '.join(entry.tiers)} tier"
            elif entry.scopes and f"{who.platform}:{who.scope}" not in entry.scopes:
                why_not[entry.name] = "isn't offered in this chat"
            elif entry.name in rules.denied:
                why_not[entry.name] = (f"is turned off in this chat (a moderator can turn it back on with "
                                       f"/models allow {entry.name})")
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
            raise Refusal(f"There is no model called {name[:48]!r} here. Models you can use: {usable.names()} "
                          "(see /models).", reason="model")
        if entry.name in usable.why_not:
            raise Refusal(f"The model {entry.name!r} {usable.why_not[entry.name]}. Models you can use: "
                          f"{usable.names()} (see /models).", reason="model")
        if not entry.serves(task) and not (task == Task.UPSCALE and entry.serves(Task.IMAGE_TO_IMAGE)) and not (
                extend and entry.serves(Task.VIDEO_TO_VIDEO)):
            able = [e.name for e in usable.models if e.serves(task)]
            if not able:
                raise Refusal(self._none_for(task, usable), reason="model")
            raise Refusal(f"The model {entry.name!r} can't {DOES[task]} ({task.value}). Models here that can: "
                          f"{', '.join(able)}; pick one with --model, or leave --model out.", reason="model")
        return entry

    def _none_for(self, task: Task, usable: Usable) -> str:
        """No usable model serves `task`: whose to fix (the owner's file, or this chat's rules) and how."""
        blocked = [(e.name, usable.why_not[e.name]) for e in self.catalog.serving(task)]
        if blocked:
            reasons = "; ".join(f"{name} {why}" for name, why in blocked)
            return f"No model you may use here can {DOES[task]}: {reasons}."
        video = task in VIDEO_TASKS
        have = [e for e in self.catalog.entries.values() if e.is_video == video]
        what = "video" if video else "image"
        add = f"{_article(task.value)} {task.value} model"
        if not have:
            return f"This server has no {what} model; an owner can add {add} (see /models)."
        return f"This server's {what} model can't {DOES[task]}; an owner can add {add} (see /models)."

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
