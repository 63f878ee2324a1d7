"""One diffusers model family, declared as data: its checkpoint kinds, the pipeline class for each task, and
how the family is called (negative prompts, guidance, size and frame rules, steps, packages it needs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.models.tasks import Task


@dataclass(frozen=True)
class FrameRule:
    """Valid clip lengths `step * k + offset` (LTX 8k+1, Wan 4k+1)."""

    step: int
    offset: int = 1

    def nearest(self, frames: int) -> int:
        """The valid length closest to `frames` (never below the shortest)."""
        k = max(0, round((frames - self.offset) / self.step))
        return self.step * k + self.offset


@dataclass(frozen=True)
class Checkpoint:
    """One kind of checkpoint of a family: the class `from_pretrained` loads it as, and the class for each task
    it serves (derived from the loaded one with `from_pipe`, sharing its weights)."""

    kind: str  # e.g. "t2i", "t2v", "i2v", "ti2v", "upscale"
    loader: str  # the pipeline class its model_index.json names
    pipelines: Mapping[Task, str]
    # Further classes such a checkpoint may name in model_index.json and load as (e.g. LTXConditionPipeline).
    loads_as: tuple[str, ...] = ()
    # Config values that tell this kind from another loading as the same class, read from the checkpoint's
    # folder: {"transformer/in_channels": 36} (Wan 2.1 I2V vs T2V). Empty: the class alone decides.
    # "component/key" reads component/config.json; a bare "key" reads model_index.json.
    match: Mapping[str, object] = field(default_factory=dict)
    multiple: int | None = None  # width/height multiple where this kind differs from its family's (Wan 2.2 TI2V)

    @property
    def tasks(self) -> frozenset[Task]:
        return frozenset(self.pipelines)

    def loads(self, pipeline_class: str) -> bool:
        return pipeline_class in (self.loader, *self.loads_as)

    def matches(self, value: Callable[[str], object]) -> bool:
        """Whether a checkpoint whose config values `value(key)` returns is this kind (by `match`)."""
        return all(value(key) == wanted for key, wanted in self.match.items())


@dataclass(frozen=True)
class Family:
    """A diffusers family and how Reelsmith calls it."""

    name: str  # catalog entries name it: "sdxl", "flux", "wan-2.1" ...
    title: str  # for people: "Stable Diffusion XL"
    checkpoints: tuple[Checkpoint, ...]
    is_video: bool
    negative_prompt: bool = True  # FLUX has none (unless true CFG)
    true_cfg: bool = False  # negative prompts through `true_cfg_scale`
    guidance: str | None = "guidance_scale"  # the call's guidance argument; None: the family takes none
    guidance_default: float | None = None  # None: the pipeline's own default
    multiple: int = 8  # width and height are multiples of this
    frames: FrameRule | None = None  # videos: valid clip lengths
    max_sequence_length: int | None = None
    steps: int = 25  # recommended steps
    dtype: str = "bfloat16"  # recommended on GPUs
    packages: tuple[str, ...] = ()  # import names the family's pipelines need (checked at worker start)
    soundtrack: bool = False  # an audio-video model: one soundtrack per call, so its jobs never batch
    vram: str = ""  # planning guide for the docs, e.g. "8-10 GB (bf16)"
    notes: tuple[str, ...] = field(default=())

    def checkpoint(self, kind: str) -> Checkpoint:
        return next(c for c in self.checkpoints if c.kind == kind)

    def checkpoint_for_class(
        self, pipeline_class: str, value: Callable[[str], object] | None = None
    ) -> Checkpoint | None:
        """The checkpoint kind a base loaded as `pipeline_class` is, or None when it is not this family's.

        `value(key)` reads the checkpoint's config values for `Checkpoint.match`; kinds with a match are tried
        first (they are the more specific), and without `value` only kinds without one can be told.
        """
        candidates = sorted((c for c in self.checkpoints if c.loads(pipeline_class)), key=lambda c: not c.match)
        for checkpoint in candidates:
            if not checkpoint.match or (value is not None and checkpoint.matches(value)):
                return checkpoint
        return None

    @property
    def tasks(self) -> frozenset[Task]:
        return frozenset(t for c in self.checkpoints for t in c.pipelines)
