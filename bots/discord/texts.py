"""Slash-command options -> the shared chat grammar, so core validates everything the same way everywhere."""

from __future__ import annotations

ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")
MESSAGE_LIMIT = 2000  # Discord's message content limit


def command_text(command: str, prompt: str = "", *, ar: str | None = None, seed: int | None = None,
                 steps: int | None = None, avoid: str | None = None, frames: int | None = None,
                 duration: float | None = None, extra: str = "", style: str | None = None,
                 model: str | None = None, spoiler: bool | None = None) -> str:
    """`/imagine` + options -> `/imagine a fox --ar 16:9 --seed 42`."""
    parts = [f"/{command}"]
    if prompt.strip():
        parts.append(prompt.strip())
    if extra.strip():
        parts.append(extra.strip())
    if model and model.strip():
        parts.append(f"--model {model.strip()}")
    for flag, value in (("ar", ar), ("seed", seed), ("steps", steps), ("frames", frames), ("duration", duration),
                        ("style", style.strip() if style and style.strip() else None)):
        if value is not None:
            parts.append(f"--{flag} {value:g}" if isinstance(value, float) else f"--{flag} {value}")
    if spoiler:
        parts.append("--spoiler")
    if avoid and avoid.strip():
        parts.append(f"--no {avoid.strip()}")  # last: --no takes the words up to the next flag
    return " ".join(parts)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Fit Discord's content limit; labels come first in captions, so cutting the end never drops them."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
