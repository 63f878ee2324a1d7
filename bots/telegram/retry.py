"""Bot API calls that survive flood control (429 `RetryAfter`) and network errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter

log = logging.getLogger(__name__)

T = TypeVar("T")


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # int or timedelta, depending on PTB's PTB_TIMEDELTA switch
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int = 5, max_retry_after_s: float = 60.0,
                   base_delay_s: float = 0.5, what: str = "request") -> T:
    """Run `call`, waiting out 429s and backing off on network errors; other errors propagate.

    A 429 means Telegram did not take the message, so repeating it cannot post twice. A longer
    wait than `max_retry_after_s` is raised instead, so the reply stream retries it later.
    """
    delay = base_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt >= attempts or wait > max_retry_after_s:
                raise
            log.info("telegram flood control on %s: waiting %.1fs", what, wait)
            await asyncio.sleep(wait)
        except BadRequest:  # a NetworkError subclass, but never fixed by repeating
            raise
        except NetworkError as exc:
            if attempt >= attempts:
                raise
            log.warning("telegram %s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
