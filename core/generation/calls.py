"""Per-family differences in how a pipeline is called, applied to the arguments `PipelineSet` builds.

Video families (`video_call`): clip lengths snapped to the family's frame rule, sizes to its multiple, its
guidance and prompt-length defaults, negative prompts through true CFG where the family needs it, and the
quirks of single pipelines (CogVideoX I2V's one trained size, HunyuanVideo I2V dropping its first latent
frame). Only arguments the pipeline's `__call__` takes are ever passed.
"""

from __future__ import annotations

import inspect
from typing import Any

from core.models.family import Checkpoint, Family

# HunyuanVideo's true-CFG scale when a member gives a negative prompt (diffusers' documented value).
TRUE_CFG_SCALE = 6.0
# HunyuanVideo I2V (latent-concat) decodes one latent frame more than it returns: 4 frames are dropped.
HUNYUAN_I2V_DROPPED = 4

SIZE_FIXED = "This video model makes clips at {w}x{h} only, so the clip is that size."
FRAMES_CUT = "This video model makes at most {n} frames, so the clip is shorter."


def accepted(pipe: Any) -> set[str] | None:
    """The argument names `pipe.__call__` takes; None when it takes any (**kwargs)."""
    params = inspect.signature(pipe.__call__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return set(params)


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
        call.setdefault("true_cfg_scale", TRUE_CFG_SCALE)


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
