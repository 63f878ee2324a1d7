"""A family's pipeline call from the generic one `PipelineSet` builds: its negative-prompt, guidance and text
length rules (`core.models.Family`), then only the arguments the pipeline's `__call__` takes.

The generic call names guidance `guidance_scale` (the model's own value; absent: the family's default) and
passes `negative_prompt` (None when no job has one), `width`/`height` (not for edits), `image`, `strength`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from core.models import FAMILIES, Family, Task

log = logging.getLogger(__name__)

GUIDANCE = "guidance_scale"
# FLUX's true classifier-free guidance scale when a member gives a negative prompt (BFL's suggested value).
TRUE_CFG_SCALE = 4.0


def accepted(pipe: Any) -> frozenset[str] | None:
    """The keyword arguments `pipe.__call__` takes; None when it takes any (`**kwargs`)."""
    parameters = inspect.signature(pipe.__call__).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


def family_of_pipeline(pipeline_class: str) -> Family | None:
    """The family declaring `pipeline_class` as a checkpoint's loader or a task's class."""
    for family in FAMILIES.values():
        for checkpoint in family.checkpoints:
            if checkpoint.loads(pipeline_class) or pipeline_class in checkpoint.pipelines.values():
                return family
    return None


def family_call(family: Family | None, task: Task, call: Mapping[str, Any],
                accepts: Collection[str] | None) -> dict[str, Any]:
    """`call` as `family` takes it for `task`, keeping only what `accepts` names (None: everything)."""
    out = dict(call)

    def takes(name: str) -> bool:
        return accepts is None or name in accepts

    if family is not None:
        _negative(family, out, takes)
        _guidance(family, out)
        if family.max_sequence_length is not None:
            out.setdefault("max_sequence_length", family.max_sequence_length)
    if out.get("negative_prompt", "") is None:
        out.pop("negative_prompt")
    image = out.get("image")
    if task == Task.IMAGE_TO_IMAGE and image is not None and "width" not in out and takes("height"):
        # FLUX, SD3 and Kontext edits draw at `height`/`width` (default 1024²), not at the image's size.
        first = image[0] if isinstance(image, list) else image
        out.update(width=first.width, height=first.height)
    if takes("max_area") and "width" in out and "height" in out:
        # Kontext rescales its output to `max_area` and its reference to ~1 MP training sizes; the job
        # already sized both, so keep them.
        out.update(max_area=out["width"] * out["height"], _auto_resize=False)
    if accepts is not None:
        dropped = sorted(set(out) - set(accepts))
        if dropped:
            log.debug("%s takes no %s", family.name if family else "the pipeline", ", ".join(dropped))
        out = {k: v for k, v in out.items() if k in accepts}
    return out


def for_pipeline(pipe: Any, task: Task, call: Mapping[str, Any]) -> dict[str, Any]:
    """`family_call` for a loaded pipeline: its family found by its class, its arguments by its signature."""
    return family_call(family_of_pipeline(type(pipe).__name__), task, call, accepted(pipe))


def _negative(family: Family, call: dict[str, Any], takes: Callable[[str], bool]) -> None:
    if family.negative_prompt or not call.get("negative_prompt"):
        return
    if family.true_cfg and takes("true_cfg_scale"):
        call.setdefault("true_cfg_scale", TRUE_CFG_SCALE)
    else:
        call.pop("negative_prompt")  # the family has no negative conditioning at all


def _guidance(family: Family, call: dict[str, Any]) -> None:
    value = call.pop(GUIDANCE, None)
    value = family.guidance_default if value is None else value
    if family.guidance is not None and value is not None:
        call[family.guidance] = value
