"""The buttons under a finished result, from the features' `ResultButton` declarations, and how long they work."""

from __future__ import annotations

from collections.abc import Iterable

from core.contract import ResultButton, button_data, image_ref
from core.types import Button, GenerationReply

MAX_PER_ROW = 5  # Discord's limit; Telegram takes more, but five reads well on a phone too
MAX_ROWS = 5


def result_buttons(declared: Iterable[ResultButton], reply: GenerationReply, *,
                   emoji: bool = False) -> list[Button]:
    """One `Button` per declared button that applies to `reply` (per image where `per_image`), placed in rows of
    at most five; none under an error."""
    if reply.error:
        return []
    images = len(reply.media) if not reply.kind.is_video else 1
    out: list[Button] = []
    for b in declared:
        if not b.show(reply):
            continue
        label = f"{b.emoji} {b.label}" if emoji and b.emoji else b.label
        if b.per_image and images > 1:
            out += [Button(label=f"{b.short or b.label}{i}", data=button_data(b.action, image_ref(reply.job_id, i)),
                           row=b.row) for i in range(1, images + 1)]
        else:
            out.append(Button(label=label, data=button_data(b.action, reply.job_id), row=b.row))
    return _placed(out)


def _placed(buttons: list[Button]) -> list[Button]:
    """Rows as declared, each split into rows of at most MAX_PER_ROW (at most five rows in all)."""
    placed: list[Button] = []
    row = 0
    for declared_row in sorted({b.row for b in buttons}):
        in_row = [b for b in buttons if b.row == declared_row]
        for start in range(0, len(in_row), MAX_PER_ROW):
            if row > MAX_ROWS - 1:
                return placed  # Discord shows five rows at most
            placed += [b.model_copy(update={"row": row}) for b in in_row[start:start + MAX_PER_ROW]]
            row += 1
    return placed


def retention(seconds: int) -> str:
    """`result_ttl_s` in words: "7 days", "12 hours"."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:g} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:g} hours"
    return f"{max(1, seconds // 60)} minutes"
