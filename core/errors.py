"""Reelsmith's errors, one small tree, and how an error reads in chat.

    ReelsmithError
    ├── UserError          the member can fix it; `message` says what and how (the service answers it)
    │   ├── CommandError   a command or flag that does not parse or is out of range
    │   ├── MediaError     a file we cannot use (its type, size, content)
    │   ├── AttachmentError  an attachment an adapter will not fetch (its kind, its declared size)
    │   └── DownloadError  an attachment whose download failed or ran over the limit
    ├── Refusal            a guard or a rule says no; `reason` names which (audit log, metrics)
    ├── CatalogError       an owner's models or styles file is wrong; the message says where (start-up check)
    └── GenerationError    the job failed in a way the member is told about (safe to show)

Cancellation is control flow, not an error: `asyncio.CancelledError` and the pipeline's own
`GenerationCancelled` stay outside this tree.
"""

from __future__ import annotations


class ReelsmithError(Exception):
    """Every error Reelsmith raises on purpose; its message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(ReelsmithError):
    """Input the member can fix; the service answers it in the chat and queues nothing."""


class CommandError(UserError):
    """A command the grammar refuses: the message says what was wrong and how to fix it."""


class MediaError(UserError):
    """Media a member sent that we cannot use; the message says why and what to do."""


class AttachmentError(UserError):
    """An attachment an adapter will not fetch or use; the message tells the member what to send instead."""


class DownloadError(UserError):
    """An attachment the member must replace because fetching it failed or passed a limit."""


class Refusal(ReelsmithError):
    """A guard's (or a rule's) refusal; the message tells the member why and what they can do."""

    def __init__(self, message: str, reason: str = "policy", extra: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.extra = extra or {}  # for the adapter, e.g. the tiers an upgrade would give (`core.quotas.UPGRADE`)


class CatalogError(ReelsmithError):
    """A models or styles file (or a model setting) the owner must fix; the message names the entry and the fix."""


class GenerationError(ReelsmithError):
    """A job that failed in a way the member is told about (the message is safe to show)."""


def error_text(message: str) -> str:
    """How an error reads in chat, on every platform."""
    return "\u26a0\ufe0f " + message
