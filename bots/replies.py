"""Reply-stream events -> an adapter: one dispatch for every platform, and the buttons under a result.

Every adapter is a `ReplySink`: it says what progress, a final reply, a notice and a deletion become on
its platform; `dispatch` routes each event of the platform's stream (`core.queue.ReplyConsumer`) to it.
Raising leaves the entry pending, so it is delivered again; progress is advisory, so its failures are
logged and never hold the stream up. The buttons under a result come from the service
(`Reelsmith.result_buttons`: the features' declarations), the same on every platform.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Protocol

from core.i18n import locale_of, use_locale
from core.queue import Event, EventHandler
from core.types import DeleteResult, GenerationReply, Notice, Progress

log = logging.getLogger(__name__)


class ReplySink(Protocol):
    """What one adapter does with each kind of reply-stream event (each may arrive more than once)."""

    async def progress(self, p: Progress) -> None: ...

    async def reply(self, r: GenerationReply, entry_id: str) -> None: ...

    async def notice(self, n: Notice, entry_id: str) -> None: ...

    async def delete(self, d: DeleteResult) -> None: ...


async def dispatch(sink: ReplySink, event: Event) -> None:
    """Hand `event` to the sink method for its kind; entries of unknown kinds are done with."""
    with use_locale(locale_of(event.progress or event.reply)):  # the member's language, on their job's messages
        await _dispatch(sink, event)


async def _dispatch(sink: ReplySink, event: Event) -> None:
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
