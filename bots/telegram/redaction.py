"""Keeps the bot token (and so every Bot API and file URL, which embed it) out of all log output.

httpx logs each request URL at INFO and python-telegram-bot logs its base URLs at DEBUG; both contain
the token. A log-record factory sees every record of every logger before any handler does, so the
token is replaced once, whatever handlers are configured later.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

REPLACEMENT = "<redacted>"
_secrets: set[str] = set()
_installed = False


def protect(secret: str) -> None:
    """Redact `secret` from every log record from now on."""
    global _installed
    if len(secret) < 8:  # too short to be a token; redacting it would mangle ordinary words
        return
    _secrets.add(secret)
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _redact(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REPLACEMENT)
    return text


def _redact(record: logging.LogRecord) -> logging.LogRecord:
    if not _secrets:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error report
        return record
    if any(s in message for s in _secrets):
        record.msg, record.args = redact(message), None
    if record.exc_info:
        text = "".join(traceback.format_exception(*record.exc_info))
        if any(s in text for s in _secrets):
            # Formatters print exc_text when set; dropping exc_info keeps the raw exception out.
            record.exc_text, record.exc_info = redact(text).rstrip("\n"), None
    return record
