"""Member-facing texts every adapter shows the same way (how an error reads: `core.errors.error_text`)."""

from __future__ import annotations

from core.i18n import _


def progress_bar(step: int, total: int, width: int = 20) -> str:
    """A text progress bar, e.g. `[##########----------] 50% (step 5/10)`."""
    frac = min(1.0, step / total) if total else 0.0
    filled = int(round(frac * width))
    return f"[{'#' * filled}{'-' * (width - filled)}] {int(frac * 100)}% " + _("(step {step}/{total})", step=step,
                                                                                total=total)


def queued_text(position: int, relax: bool = False) -> str:
    """What a member reads once their job is queued (`relax`: in the relax lane, core/quotas/relax.py)."""
    if relax:
        return "\U0001f6cb\ufe0f " + _("You're out of credits, so this is queued in the relax lane: it costs nothing "
                                       "and runs when the GPUs are idle, after everyone else's jobs. I'll update "
                                       "this message when it starts.")
    return "\u23f3 " + _("Queued (position {position}). I'll update this message as it renders.", position=position)


def rendering_text(step: int, total: int) -> str:
    return "\U0001f3a8 " + _("Rendering\u2026") + f" {progress_bar(step, total)}"


def encoding_text(ready: int, total: int) -> str:
    """A job's files are being labelled and encoded; with several images, how many are ready."""
    if total > 1 and ready:
        return "\U0001f39e\ufe0f " + _("Encoding\u2026 {ready} of {total} images ready.", ready=ready, total=total)
    return "\U0001f39e\ufe0f " + _("Encoding\u2026 almost there.")
