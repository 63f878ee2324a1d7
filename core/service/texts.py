"""Member-facing texts every adapter shows the same way (how an error reads: `core.errors.error_text`)."""

from __future__ import annotations

from core.i18n import _


def progress_bar(step: int, total: int, width: int = 20) -> str:
    """A text progress bar, e.g. `[##########----------] 50% (step 5/10)`."""
    frac = min(1.0, step / total) if total else 0.0
    filled = int(round(frac * width))
    return f"[{'#' * filled}{'-' * (width - filled)}] {int(frac * 100)}% " + _("(step {step}/{total})", step=step,
                                                                                total=total)


def queued_text(position: int) -> str:
    return "\u23f3 " + _("Queued (position {position}). I'll update this message as it renders.", position=position)


def rendering_text(step: int, total: int) -> str:
    return "\U0001f3a8 " + _("Rendering\u2026") + f" {progress_bar(step, total)}"
