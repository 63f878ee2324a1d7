"""Reply-stream events -> an adapter: one dispatch for every platform, and the buttons under a result.

Every adapter is a `ReplySink`: it says what progress, a final reply, a notice and a deletion become on
its platform; `dispatch` routes each event of the platform's stream (`core.queue.ReplyConsumer`) to it.
Raising leaves the entry pending, so it is delivered again; progress is advisory, so its failures are
logged and never hold the stream up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from core.queue import Event, EventHandler
from core.service import button_data
from core.types import Button, DeleteResult, GenerationReply, Notice, Progress

log = logging.getLogger(__name__)


class ReplySink(Protocol):
    """What one adapter does with each kind of reply-stream event (each may arrive more than once)."""

    async def progress(self, p: Progress) -> None: ...

    async def reply(self, r: GenerationReply, entry_id: str) -> None: ...

    async def notice(self, n: Notice, entry_id: str) -> None: ...

    async def delete(self, d: DeleteResult) -> None: ...


async def dispatch(sink: ReplySink, event: Event) -> None:
    """Hand `event` to the sink method for its kind; entries of unknown kinds are done with."""
    if event.progress is not None:
        try:
            await sink.progress(event.progress)
        except Exception:  # advisory: a lost progress edit is harmless, a stuck stream is not
            log.warning("progress of job %s not shown", event.progress.job_id, exc_info=True)
    elif event.reply is not None:
        await sink.reply(event.reply, event.entry_id)
    elif event.notice is not None:
        await sink.notice(event.notice, event.entry_id)
    elif event.delete is not None:
        await sink.delete(event.delete)


def handler_for(sink: ReplySink) -> EventHandler:
    """The reply consumer's handler for `sink`."""
    return partial(dispatch, sink)


@dataclass(frozen=True)
class ResultAction:
    """A button every platform shows under a finished result."""

    action: str
    label: str
    emoji: str
    images_only: bool = False


RESULT_ACTIONS = (
    ResultAction("reroll", "Reroll", "\U0001f501"),
    ResultAction("vary", "Variations", "\U0001f3b2"),
    ResultAction("animate", "Animate", "\U0001f3ac", images_only=True),
    ResultAction("report", "Report", "\U0001f6a9"),
)
# Result buttons that queue a new job (Report only tells the moderators).
QUEUEING_ACTIONS = frozenset({"reroll", "vary", "animate"})


def result_buttons(reply: GenerationReply, *, emoji: bool = False) -> list[Button]:
    """The buttons under a finished result (none under an error); Animate only under images."""
    if reply.error:
        return []
    return [Button(label=f"{a.emoji} {a.label}" if emoji else a.label, data=button_data(a.action, reply.job_id))
            for a in RESULT_ACTIONS if not (a.images_only and reply.kind.is_video)]
