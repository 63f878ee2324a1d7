"""The chat command that makes a request again: what the Copy and Edit buttons show.

A styled request's prompt, negative and aspect already carry the style's template, so the command is
rebuilt from what the member typed (`Typed`, recorded before the style applied) with `--style` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.types import GenerationRequest, JobKind

# The chat command of each kind (the chat grammar's, which features do not import: they sit below the service).
# Kinds only buttons make have the command closest to them: a repaint is /edit with a mask (Zoom, Pan, Vary
# (Region)), an extended clip's prompt is a /video prompt.
COMMAND_OF = {JobKind.IMAGE: "imagine", JobKind.EDIT: "edit", JobKind.VIDEO: "video", JobKind.ANIMATE: "animate",
              JobKind.MEME: "meme", JobKind.UPSCALE: "upscale", JobKind.INPAINT: "edit", JobKind.EXTEND: "video"}


@dataclass(frozen=True)
class Typed:
    """What the member typed, before a style reshaped it."""

    prompt: str
    negative_prompt: str
    aspect_ratio: str
    aspect_given: bool


def command_text(request: GenerationRequest, typed: Typed | None = None) -> str:
    """`/imagine a fox --seed 5 --steps 4 --model tiny-sd ...`: parsing it gives the request's settings back.

    References are not part of the text: a command that needs an image says so when sent without one.
    """
    r = request
    prompt = typed.prompt if typed is not None else r.prompt
    negative = typed.negative_prompt if typed is not None else r.negative_prompt
    aspect = typed.aspect_ratio if typed is not None else r.aspect_ratio
    aspect_given = typed.aspect_given if typed is not None else aspect != "1:1"
    kind = r.kind
    parts: list[str]
    if kind == JobKind.MEME:  # captions on a member's picture: the texts are the whole command
        parts = ["/meme"]
    elif r.meme_top or r.meme_bottom:  # a generated meme: its picture's prompt, captions as flags
        parts = ["/meme", prompt]
    else:
        parts = [f"/{COMMAND_OF[kind]}", prompt]
    if kind.uses_model:
        parts += ["--seed", str(r.seed), "--steps", str(r.steps)]
        if r.model:
            parts += ["--model", r.model]
    if r.style:
        parts += ["--style", r.style]
    if aspect_given and kind != JobKind.UPSCALE:
        parts += ["--ar", aspect]
    if kind.is_video:
        parts += ["--fit-audio"] if r.fit_audio else ["--frames", str(r.num_frames)]
    if r.output_format != "auto":
        parts += ["--format", r.output_format]
    if kind == JobKind.UPSCALE and r.references and r.references[0].width:
        scale = round(r.width / r.references[0].width)
        if scale in (2, 4):
            parts += ["--scale", str(scale)]
    if r.meme_top:
        parts += ["--top", r.meme_top]
    if r.meme_bottom:
        parts += ["--bottom", r.meme_bottom]
    if negative:  # last: a text flag takes every word up to the next flag
        parts += ["--no", negative]
    return " ".join(p for p in parts if p.strip())
