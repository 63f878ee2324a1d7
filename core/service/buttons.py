"""The buttons under a finished result, from the features' `ResultButton` declarations, and how long they work."""

from __future__ import annotations

from collections.abc import Iterable

from core.contract import ResultButton, button_data, image_ref
from core.i18n import translate
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
        text = translate(b.label)  # in the current locale: the member's whose result it is
        label = f"{b.emoji} {text}" if emoji and b.emoji else text
        if b.per_image and images > 1:
            out += [Button(label=f"{b.short or text}{i}", data=button_data(b.action, image_ref(reply.job_id, i)),
                           row=b.row) for i in range(1, images + 1)]
        else:
            out.append(Button(label=label, data=button_data(b.action, reply.job_id), row=b.row))
    return _placed(out)


def _placed(buttons: list[Button]) -> list[Button]:
    """Row groups (`core.contract.Row`) in order, packed: a group joins the current row when it fits there whole,
    else starts a new one (a group wider than a row is split); at most MAX_ROWS rows, the rest dropped."""
    placed: list[Button] = []
    row, used = -1, MAX_PER_ROW
    for group in sorted({b.row for b in buttons}):
        members = [b for b in buttons if b.row == group]
        if used + len(members) > MAX_PER_ROW:
            row, used = row + 1, 0
        for button in members:
            if used == MAX_PER_ROW:
                row, used = row + 1, 0
            if row > MAX_ROWS - 1:
                return placed  # Discord shows five rows at most
            placed.append(button.model_copy(update={"row": row}))
            used += 1
    return placed
