"""Why a job failed, and what follows from it.

- The member's own input: a reference that passed the submit checks but cannot be used when the job runs
  (`MediaError`). Answered at once and charged: the job took its turn on the worker (often on the GPU too).
- A repeatable fault of the service: a bug or a setup problem that fails the same way on every try (a tensor
  shape mismatch, a missing package, a wrong argument). Answered at once, refunded, traceback logged.
- Anything else is taken as transient (Redis or the network away, a timeout, a CUDA fault or out of memory,
  a worker killed): retried up to `max_tries`, then answered and refunded.
"""

from __future__ import annotations

import re

from redis.exceptions import RedisError

from core.errors import MediaError
from core.i18n import _

# The member's reference could not be decoded or used when the job ran: their input, not our fault.
MEMBER_INPUT_ERRORS: tuple[type[Exception], ...] = (MediaError,)
# Exceptions a retry cannot fix: they come from the code, the installed packages or the request itself.
_REPEATABLE_TYPES: tuple[type[BaseException], ...] = (
    ImportError, NameError, TypeError, ValueError, NotImplementedError, AttributeError, LookupError,
    AssertionError, ArithmeticError,
)
# torch reports everything as RuntimeError: these messages are the model and the request disagreeing.
_REPEATABLE_RUNTIME = re.compile(
    r"shape|size of tensor|sizes of tensors|must match the size|dimension|expected .*channels|weight of size"
    r"|same device|same dtype|expected scalar type",
    re.IGNORECASE,
)
# ... and these are the device: they may well pass on the next try (or on another worker).
_TRANSIENT_RUNTIME = re.compile(r"CUDA error|CUBLAS|CUDNN|NCCL|out of memory|illegal memory|ECC", re.IGNORECASE)


def is_repeatable(exc: BaseException) -> bool:
    """True when trying again would fail the same way, so the job is answered at once instead of retried."""
    if isinstance(exc, (OSError, TimeoutError, MemoryError, RedisError)):
        return False
    if isinstance(exc, _REPEATABLE_TYPES):
        return True
    if isinstance(exc, RuntimeError):
        message = str(exc)
        return bool(_REPEATABLE_RUNTIME.search(message)) and not _TRANSIENT_RUNTIME.search(message)
    return False


def member_input_text(problem: str, charged: bool) -> str:
    """The reply to a job stopped by the member's own attachment: what was wrong, that it was charged, what to do."""
    if charged:
        return _("Your attachment could not be used when the job ran: {problem} The job was charged: it had its turn "
                 "on the worker, and the problem was in the file you sent. Fix or replace the file and try again.",
                 problem=problem)
    return _("Your attachment could not be used when the job ran: {problem} Fix or replace the file and try again.",
             problem=problem)


def repeatable_text(reason: str) -> str:
    """The reply to a job that failed in a way a retry would repeat (the service's fault)."""
    return _("Sorry, generating this failed ({reason}) in a way that trying again would repeat, so it was not "
             "retried. Nothing was charged; try other settings (size, --steps, --frames), and if it keeps happening "
             "tell the bot's owner.", reason=reason)
