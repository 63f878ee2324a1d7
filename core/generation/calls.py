"""A family's pipeline call from the generic one `PipelineSet` builds, then only the arguments the pipeline's
`__call__` takes.

Image families (`family_call`): negative prompts (true CFG for FLUX, dropped where a family has none), guidance
under the family's own argument and default, text length, edits sized like their image. The generic call names
guidance `guidance_scale` (the model's own value; absent: the family's default).

Video families (`video_call`): clip lengths snapped to the family's frame rule, sizes to its multiple, its
guidance and prompt-length defaults, negative prompts through true CFG where the family needs it, and the
quirks of single pipelines (CogVideoX I2V's one trained size, HunyuanVideo I2V dropping its first latent
frame).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from core.models import FAMILIES, Family, Task
from core.models.family import Checkpoint

log = logging.getLogger(__name__)


GUIDANCE = "guidance_scale"
# FLUX's true classifier-free guidance scale when a member gives a negative prompt (BFL's suggested value).
TRUE_CFG_SCALE = 4.0
# HunyuanVideo's true-CFG scale when a member gives a negative prompt (diffusers' documented value).
VIDEO_TRUE_CFG_SCALE = 6.0
# HunyuanVideo I2V (latent-concat) decodes one latent frame more than it returns: 4 frames are dropped.
HUNYUAN_I2V_DROPPED = 4

SIZE_FIXED = "This video model makes clips at {w}x{h} only, so the clip is that size."
FRAMES_CUT = "This video model makes at most {n} frames, so the clip is shorter."




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


def video_call(
    pipe: Any, found: tuple[Family, Checkpoint] | None, call: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """`call` adjusted for the video pipeline `pipe` of the family and kind `found`, and notes for the member."""
    call = dict(call)
    notes: list[str] = []
    if found is not None:
        _family_rules(found[0], found[1], call)
    _cogvideox_fixed_size(pipe, call, notes)
    if type(pipe).__name__ == "HunyuanVideoImageToVideoPipeline" and "num_frames" in call:
        condition = getattr(getattr(pipe, "transformer", None), "config", {}).get("image_condition_type")
        if condition == "latent_concat":
            call["num_frames"] += HUNYUAN_I2V_DROPPED
    names = accepted(pipe)
    return (call if names is None else {k: v for k, v in call.items() if k in names}), notes


def _family_rules(family: Family, checkpoint: Checkpoint, call: dict[str, Any]) -> None:
    if family.frames is not None and "num_frames" in call:
        call["num_frames"] = family.frames.nearest(call["num_frames"])
    multiple = checkpoint.multiple or family.multiple
    for side in ("width", "height"):
        if side in call:
            call[side] = max(multiple, call[side] // multiple * multiple)
    if family.guidance is not None and family.guidance_default is not None:
        call.setdefault(family.guidance, family.guidance_default)
    if family.max_sequence_length is not None:
        call.setdefault("max_sequence_length", family.max_sequence_length)
    if family.true_cfg and call.get("negative_prompt"):
        call.setdefault("true_cfg_scale", VIDEO_TRUE_CFG_SCALE)


def _cogvideox_fixed_size(pipe: Any, call: dict[str, Any], notes: list[str]) -> None:
    """CogVideoX transformers with learned positional embeddings (1.0 I2V) run only at their trained size."""
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    if not type(pipe).__name__.startswith("CogVideoX") or config is None:
        return
    if not config.get("use_learned_positional_embeddings"):
        return
    scale = int(getattr(pipe, "vae_scale_factor_spatial", 8))
    width, height = config["sample_width"] * scale, config["sample_height"] * scale
    if (call.get("width"), call.get("height")) != (width, height):
        call.update(width=width, height=height)
        notes.append(SIZE_FIXED.format(w=width, h=height))
    most = config.get("sample_frames")
    if most and call.get("num_frames", 0) > most:
        call["num_frames"] = most
        notes.append(FRAMES_CUT.format(n=most))
