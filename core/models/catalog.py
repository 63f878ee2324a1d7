"""The catalog: the named models a deployment runs, what each serves, and the default model per task.

Owners list models in one TOML file (`REELSMITH_MODELS_FILE`)::

    [defaults]                      # the model a task uses when the member names none
    text-to-video = "wan-t2v"
    image-to-video = "wan-i2v"

    [[model]]
    name = "wan-t2v"                # what members type after --model
    source = "/models/Wan2.1-T2V-1.3B-Diffusers"   # a local folder, a hub id, or twin:<name> (a tiny twin)
    family = "wan"                  # optional for local folders: read from model_index.json
    kind = "t2v"                    # optional likewise: the family's checkpoint kind
    tasks = ["text-to-video"]       # optional: what the kind serves
    steps = 30                      # optional defaults: steps, guidance, long_side, fps, frames
    cost = 2.0                      # credits are multiplied by this
    tiers = ["pro"]                 # optional: quota tiers that may use it (empty: all)
    scopes = ["discord:1234"]       # optional: chats/servers that may use it (empty: all)

`REELSMITH_IMAGE_MODEL` / `REELSMITH_VIDEO_MODEL` stay the one-model shorthand (each becomes an entry); with
neither a file nor the shorthand, the tiny random-weight set serves every task it can. Plain data: bots read
it to refuse, before queueing, a task no model here can do.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import CatalogError
from core.models.detect import detect as detect_folder
from core.models.families import FAMILIES
from core.models.family import Checkpoint, Family
from core.models.tasks import Task

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
TWIN_PREFIX = "twin:"
TINY_IMAGE = "reelsmith-tiny-image"
TINY_VIDEO = "reelsmith-tiny-video"

# A model whose family Reelsmith does not declare: image ones load through diffusers' AutoPipeline (which also
# finds their image-to-image sibling); video ones as the class their model_index.json names, text-to-video only.
AUTO_IMAGE = Family(name="auto-image", title="any AutoPipeline text-to-image model", is_video=False, checkpoints=(
    Checkpoint("t2i", "AutoPipelineForText2Image", {
        Task.TEXT_TO_IMAGE: "AutoPipelineForText2Image",
        Task.IMAGE_TO_IMAGE: "AutoPipelineForImage2Image",
    }),
))
AUTO_VIDEO = Family(name="auto-video", title="a text-to-video pipeline of an undeclared family", is_video=True,
                    checkpoints=(Checkpoint("t2v", "DiffusionPipeline", {Task.TEXT_TO_VIDEO: "DiffusionPipeline"}),))
_FALLBACKS = {f.name: f for f in (AUTO_IMAGE, AUTO_VIDEO)}


class ModelEntry(BaseModel):
    """One named model of the catalog, with its family and checkpoint kind settled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: str
    family: str = ""
    kind: str = ""
    tasks: tuple[Task, ...] = ()
    title: str = ""
    steps: int | None = Field(default=None, ge=1, le=200)
    guidance: float | None = Field(default=None, ge=0, le=50)
    long_side: int | None = Field(default=None, ge=16, le=4096)
    fps: int | None = Field(default=None, ge=1, le=120)
    frames: int | None = Field(default=None, ge=1, le=1000)
    cost: float = Field(default=1.0, gt=0, le=1000)
    tiers: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()  # "platform:scope" (a Telegram chat, a Discord server)
    tiny: bool = False  # a random-weight twin: tiny default sizes and steps

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip().lower()
        if not NAME_RE.fullmatch(value):
            raise ValueError("model names are 1-48 lower-case letters, digits, '.', '-' or '_'")
        return value

    @property
    def label(self) -> str:
        """How captions and /models name it."""
        return self.title or self.name

    @property
    def spec(self) -> Family:
        return FAMILIES.get(self.family) or _FALLBACKS[self.family]

    @property
    def checkpoint(self) -> Checkpoint:
        return self.spec.checkpoint(self.kind)

    @property
    def is_video(self) -> bool:
        return self.spec.is_video

    def serves(self, task: Task) -> bool:
        return task in self.tasks

    def allowed_for(self, tier: str, platform: str, scope: str) -> bool:
        """Whether the owner's file lets a member of `tier` in `platform:scope` use it."""
        return (not self.tiers or tier in self.tiers) and (not self.scopes or f"{platform}:{scope}" in self.scopes)


@dataclass(frozen=True)
class Catalog:
    """The models of a deployment by name, and the default per task."""

    entries: Mapping[str, ModelEntry]
    defaults: Mapping[Task, str] = field(default_factory=dict)

    def entry(self, name: str) -> ModelEntry | None:
        return self.entries.get(name.strip().lower())

    def serving(self, task: Task) -> list[ModelEntry]:
        return [e for e in self.entries.values() if e.serves(task)]

    def default_for(self, task: Task, among: Iterable[ModelEntry] | None = None) -> ModelEntry | None:
        """The task's default model (among `among`, when given): the configured one, else the first serving it."""
        pool = [e for e in (self.entries.values() if among is None else among) if e.serves(task)]
        named = self.defaults.get(task)
        return next((e for e in pool if e.name == named), pool[0] if pool else None)

    @property
    def tasks(self) -> frozenset[Task]:
        return frozenset(t for e in self.entries.values() for t in e.tasks)


# ---- reading a checkpoint's own description ------------------------------------------------------
def checkpoint_folder(source: str) -> Path | None:
    """The folder holding a checkpoint's JSON files: the local folder, or a hub id's cached snapshot (this never
    downloads); None when neither is here."""
    if Path(source).is_dir():
        return Path(source)
    if "/" in source:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(source, "model_index.json")
        except Exception:
            cached = None
        if isinstance(cached, str):
            return Path(cached).parent
    return None


def detect(source: str) -> tuple[Family, Checkpoint] | None:
    """The family and checkpoint kind of a checkpoint folder (or cached hub id), from its JSON files alone."""
    folder = checkpoint_folder(source)
    return detect_folder(folder) if folder is not None else None


# ---- building the catalog ------------------------------------------------------------------------
def settle(raw: Mapping[str, Any], *, video: bool | None = None, tiny: bool = False) -> ModelEntry:
    """A catalog entry with its family, kind and tasks filled in (detected where not given) and checked."""
    data = dict(raw)
    entry = ModelEntry(**{"tiny": tiny, **data})
    family_name, kind = entry.family, entry.kind
    if not family_name or not kind:
        found = None if entry.source.startswith(TWIN_PREFIX) else detect(entry.source)
        if found is not None:
            family_name = family_name or found[0].name
            kind = kind or (found[1].kind if found[0].name == family_name else "")
        elif not family_name:
            if video is None:
                raise CatalogError(f"Model {entry.name!r}: say its family (one of {', '.join(FAMILIES)}); it could "
                                  f"not be read from {entry.source}/model_index.json.")
            family_name = AUTO_VIDEO.name if video else AUTO_IMAGE.name
    family = FAMILIES.get(family_name) or _FALLBACKS.get(family_name)
    if family is None:
        raise CatalogError(f"Model {entry.name!r}: unknown family {family_name!r}; known: {', '.join(FAMILIES)}.")
    kinds = [c.kind for c in family.checkpoints]
    kind = kind or kinds[0]
    if kind not in kinds:
        raise CatalogError(f"Model {entry.name!r}: the {family.title} family has no checkpoint kind {kind!r} "
                          f"(it has {', '.join(kinds)}).")
    offered = family.checkpoint(kind).tasks
    tasks = entry.tasks or tuple(t for t in Task if t in offered)
    extra = [t.value for t in tasks if t not in offered]
    if extra:
        raise CatalogError(f"Model {entry.name!r} ({family.title}, {kind} checkpoint) cannot do "
                          f"{', '.join(extra)}; it can do {', '.join(sorted(t.value for t in offered))}.")
    return entry.model_copy(update={"family": family.name, "kind": kind, "tasks": tasks})


def _shorthand_name(source: str, fallback: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", source.rstrip("/").split("/")[-1].lower()).strip("-._")[:48]
    return name if name and NAME_RE.fullmatch(name) else fallback


def _shorthand(settings: Settings) -> list[ModelEntry]:
    """The entries `REELSMITH_IMAGE_MODEL` / `REELSMITH_VIDEO_MODEL` stand for (the tiny set where unset)."""
    s = settings
    entries = []
    if s.image_model:
        entries.append(settle({"name": _shorthand_name(s.image_model, "image"), "source": s.image_model,
                               "title": s.model_name_in_caption or ""}, video=False))
    if s.video_model:
        entries.append(settle({"name": _shorthand_name(s.video_model, "video"), "source": s.video_model,
                               "title": s.model_name_in_caption or ""}, video=True))
    if s.upscale_model:  # the one upscale family there is: a hub id not yet downloaded cannot say it
        entries.append(settle({"name": _shorthand_name(s.upscale_model, "upscale"), "source": s.upscale_model,
                               "family": "sd-upscale", "kind": "upscale"}))
    return entries


def _tiny_defaults(settings: Settings, have: list[ModelEntry]) -> list[ModelEntry]:
    """The tiny image and video twins, for whichever of the two kinds of model no entry covers."""
    out = []
    caption = settings.model_name_in_caption or ""
    if not any(not e.is_video and not e.serves(Task.UPSCALE) for e in have):
        out.append(settle({"name": TINY_IMAGE, "source": "tiny:image", "family": "sd", "kind": "t2i",
                           "title": caption}, tiny=True))
    if not any(e.is_video for e in have):
        out.append(settle({"name": TINY_VIDEO, "source": "tiny:video", "family": "ltx-video", "kind": "t2v",
                           "title": caption}, tiny=True))
    return out


def parse_models_file(path: Path) -> tuple[list[ModelEntry], dict[Task, str]]:
    """The entries and defaults of a models file; CatalogError says what is wrong and where."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"REELSMITH_MODELS_FILE {path}: {exc}") from exc
    unknown = sorted(set(data) - {"model", "defaults"})
    if unknown:
        raise CatalogError(f"{path}: unknown table(s) {', '.join(unknown)}; use [[model]] and [defaults].")
    entries = []
    for i, raw in enumerate(data.get("model", [])):
        try:
            entries.append(settle(raw))
        except ValidationError as exc:
            where = raw.get("name", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
            raise CatalogError(f"{path}: model {where}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    defaults: dict[Task, str] = {}
    for task_name, model in dict(data.get("defaults", {})).items():
        try:
            defaults[Task(task_name)] = str(model).lower()
        except ValueError as exc:
            raise CatalogError(f"{path}: [defaults] {task_name!r} is not a task; tasks: "
                              f"{', '.join(t.value for t in Task)}.") from exc
    return entries, defaults


def build_catalog(settings: Settings) -> Catalog:
    """The catalog from the models file and the shorthand settings, checked (CatalogError on a mistake)."""
    entries: list[ModelEntry] = []
    defaults: dict[Task, str] = {}
    if settings.models_file is not None:
        entries, defaults = parse_models_file(settings.models_file)
    entries += _shorthand(settings)
    # An owner's file lists every model; without one, the tiny twins stand in for what the shorthand leaves out.
    entries += _tiny_defaults(settings, entries) if settings.models_file is None else []
    by_name: dict[str, ModelEntry] = {}
    for entry in entries:
        if entry.name in by_name:
            raise CatalogError(f"Two models are named {entry.name!r}; give each its own name.")
        by_name[entry.name] = entry
    for task, name in defaults.items():
        if name not in by_name or not by_name[name].serves(task):
            raise CatalogError(f"[defaults] {task.value} = {name!r}: no model of that name serves {task.value}.")
    return Catalog(by_name, defaults)


_CACHE: dict[tuple[Any, ...], Catalog] = {}


def catalog_for(settings: Settings) -> Catalog:
    """The settings' catalog, rebuilt when the file or the shorthand settings change."""
    path = settings.models_file
    try:
        stamp = path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        stamp = -1
    key = (str(path), stamp, settings.image_model, settings.video_model, settings.upscale_model,
           settings.model_name_in_caption,
           str(settings.resolved_tiny_dir()))
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = build_catalog(settings)
    return _CACHE[key]
