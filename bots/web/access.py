"""Who may use the playground: the owner's secret, browser sessions derived from it, one-time sign-in links.

The secret is `REELSMITH_WEB_TOKEN` when configured, else a per-install random secret created on first start
in `data_dir/web_token` (mode 0600). Scripts send it as `Authorization: Bearer <secret>`. Browsers never hold
it: they hold a session cookie `<expiry>.<HMAC(secret, expiry)>`, so sessions need no storage (they survive
restarts and Redis outages) and rotating the secret ends them all. The start-up line prints a link with a
random nonce instead of the secret: it works once and only for `web_link_ttl_s`, so the line left in a
terminal, a log or the access log is useless afterwards, and the long-lived secret never travels in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from core.clock import Clock, system_clock
from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_FILE = "web_token"
BEARER = "bearer "


def load_install_secret(data_dir: Path) -> str:
    """The per-install secret in `data_dir/web_token`, created (0600, atomically) on first call."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if not path.exists():
        # Write a private temp file and hard-link it into place: the secret appears complete or not at all,
        # and of two processes starting at once, exactly one wins.
        tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            try:
                os.link(tmp, path)
                log.info("created the playground's access token in %s", path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others; making it private (0600)", path)
        path.chmod(0o600)
    secret = path.read_text().strip()
    if not secret:
        raise SystemExit(f"{path} is empty: delete it and start again to create a new access token.")
    return secret


class Access:
    """Checks the owner's credentials; mints sessions and one-time sign-in links."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        configured = settings.web_token
        self.token = configured.get_secret_value().strip() if configured else load_install_secret(settings.data_dir)
        if not self.token:
            raise SystemExit("REELSMITH_WEB_TOKEN is set but empty: set it to a long random secret, or remove it.")
        self.token_source = "REELSMITH_WEB_TOKEN" if configured else str(settings.data_dir / SECRET_FILE)
        self.session_ttl_s = settings.web_session_ttl_s
        self.link_ttl_s = settings.web_link_ttl_s
        self.cookie_name = f"reelsmith_{settings.web_port}"  # cookies ignore ports: two installs keep theirs
        self._key = hashlib.sha256(b"reelsmith-web-session\0" + self.token.encode()).digest()
        self._links: dict[str, float] = {}  # sha256(nonce) -> expiry
        self._clock = clock

    def token_ok(self, candidate: str) -> bool:
        return bool(candidate.strip()) and hmac.compare_digest(candidate.strip().encode(), self.token.encode())

    def bearer_ok(self, authorization: str | None) -> bool:
        """True for `Authorization: Bearer <the secret>`."""
        if not authorization or not authorization.lower().startswith(BEARER):
            return False
        return self.token_ok(authorization[len(BEARER):])

    def bearer_header(self) -> dict[str, str]:
        """Headers a script sends to authenticate."""
        return {"Authorization": f"Bearer {self.token}"}

    def _mac(self, expiry: int) -> str:
        return hmac.new(self._key, f"session:{expiry}".encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        """A session cookie value, valid for `web_session_ttl_s`."""
        expiry = int(self._clock()) + self.session_ttl_s
        return f"{expiry}.{self._mac(expiry)}"

    def session_ok(self, value: str | None) -> bool:
        if not value:
            return False
        expiry, _, mac = value.partition(".")
        if not expiry.isdigit() or int(expiry) < self._clock():
            return False
        return hmac.compare_digest(mac.encode(), self._mac(int(expiry)).encode())

    def new_link_nonce(self) -> str:
        """A nonce for a one-time sign-in link (`/?token=<nonce>`)."""
        now = self._clock()
        self._links = {h: exp for h, exp in self._links.items() if exp > now}
        nonce = secrets.token_urlsafe(24)
        self._links[_digest(nonce)] = now + self.link_ttl_s
        return nonce

    def redeem_link(self, nonce: str) -> bool:
        """True once for a fresh nonce; used, expired and unknown ones are refused."""
        expiry = self._links.pop(_digest(nonce), None)
        return expiry is not None and expiry > self._clock()


def _digest(nonce: str) -> str:
    # Looked up by hash, so the dict's string comparison leaks nothing about live nonces.
    return hashlib.sha256(nonce.encode()).hexdigest()
