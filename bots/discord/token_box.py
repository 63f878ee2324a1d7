"""Discord interaction tokens at rest: sealed with AES-GCM under a key only the Discord bot process holds.

An interaction token lets whoever holds it edit and post the bot's messages in that conversation for
15 minutes, so it is not kept in Redis in plain text. The key is derived (HKDF-SHA256) from the bot
token, which workers never have; each sealed token is bound to its job id, so a value copied to another
job's key, or altered in any way, fails to open and delivery falls back to channel messages.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"reelsmith/discord/interaction-token/v1"
_VERSION = b"\x01"
_NONCE = 12
_TAG = 16


class TokenBox:
    """Seals and opens interaction tokens for one bot (one bot token)."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, token: str, job_id: str) -> bytes:
        """`token` encrypted and authenticated, bound to `job_id`: version, nonce, ciphertext and tag."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, token.encode(), job_id.encode())

    def open(self, sealed: bytes, job_id: str) -> str | None:
        """The token sealed for `job_id`, or None if `sealed` was not made by this box for that job."""
        if len(sealed) < 1 + _NONCE + _TAG or not sealed.startswith(_VERSION):
            return None
        nonce, body = sealed[1:1 + _NONCE], sealed[1 + _NONCE:]
        try:
            return self._aead.decrypt(nonce, body, job_id.encode()).decode()
        except (InvalidTag, UnicodeDecodeError):
            return None
