"""The playground's front door: one aiohttp middleware that every request passes, in this order.

1. Host must be a loopback name (127.0.0.1, localhost, [::1], any port: Docker and `kubectl port-forward`
   change the port the browser sees) or one of `web_public_hosts`. A DNS-rebinding page reaches us under
   its own name, so it is refused here (and its requests would carry none of our cookies anyway).
2. State-changing requests (POST) with an `Origin` must come from the origin the request is addressed to
   (or a public name, for proxies that rewrite Host).
3. Credentials: `Authorization: Bearer <secret>` (scripts; a page on another origin cannot set it without
   a CORS preflight, which we never answer), or the session cookie. The cookie is SameSite=Strict, but
   "site" ignores ports, so another server on localhost would still get it sent: a cookie counts only when
   Fetch Metadata does not say the request came from elsewhere, and a POST by cookie also needs a matching
   `Origin` (browsers send it) or `Sec-Fetch-Site: same-origin`.
4. Bodies only in the types each route reads: text/plain "JSON" (a form or `fetch` another site may send
   without a preflight) is refused with 415.

Only the page itself (`GET /`, which shows the sign-in page to strangers) and `POST /login` are open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bots.web.access import Access
from core.ops import Address, is_loopback, parse_host

Auth = Literal["bearer", "cookie"] | None
AUTH_KEY = "reelsmith.auth"  # a str key: aiohttp's typed RequestKey needs a newer aiohttp than we require

JSON = "application/json"
MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"
BODY_TYPES: dict[str, tuple[str, ...]] = {
    "/api/command": (JSON, MULTIPART, FORM),
    "/api/button": (JSON,),
    "/login": (FORM,),
}
OPEN_ROUTES = {("GET", "/"), ("HEAD", "/"), ("POST", "/login")}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
OWN_FETCH_SITES = ("same-origin", "none")  # "none": the owner typed or bookmarked the address
DEFAULT_PORTS = {"http": 80, "https": 443}

_ORIGIN_RE = re.compile(r"^(?P<scheme>https?)://(?P<host>[^/?#@]+)$")


def parse_origin(value: str) -> Address | None:
    """(name, port or None) of an Origin header; the scheme's default port counts as none."""
    match = _ORIGIN_RE.match(value.strip())
    address = parse_host(match["host"]) if match else None
    if match is None or address is None:
        return None
    name, port = address
    return name, None if port == DEFAULT_PORTS[match["scheme"]] else port


def auth_of(request: web.Request) -> Auth:
    """How the gate authenticated this request (None: a stranger on an open route)."""
    auth: Auth = request.get(AUTH_KEY)
    return auth


class Gate:
    """Builds the middleware from the owner's credentials and the configured public names."""

    def __init__(self, access: Access, public_hosts: Iterable[str]) -> None:
        self.access = access
        self.public: list[Address] = [a for a in (parse_host(h) for h in public_hosts) if a is not None]

    def _is_public(self, address: Address) -> bool:
        name, port = address
        return any(name == p_name and (p_port is None or p_port == port) for p_name, p_port in self.public)

    def host_ok(self, address: Address | None) -> bool:
        return address is not None and (is_loopback(address[0]) or self._is_public(address))

    def origin_ok(self, origin: str, host: Address) -> bool:
        address = parse_origin(origin)
        return address is not None and (address == host or self._is_public(address))

    def credentials(self, request: web.Request, origin_matched: bool) -> tuple[Auth, str | None]:
        """Who is asking (bearer, cookie or nobody) and, when a cookie is not accepted, why."""
        if self.access.bearer_ok(request.headers.get("Authorization")):
            return "bearer", None
        if not self.access.session_ok(request.cookies.get(self.access.cookie_name)):
            return None, None
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in OWN_FETCH_SITES:
            return None, "This request came from another page, not the playground's own."
        if request.method not in SAFE_METHODS and not origin_matched and fetch_site != "same-origin":
            return None, "The browser did not say where this request came from (no Origin); use the playground page."
        return "cookie", None

    def sign_in_hint(self) -> str:
        return ("Sign in first: open the one-time link Reelsmith printed when it started (restart it for a new "
                f"one), or paste the access token on the page; scripts send Authorization: Bearer <the token in "
                f"{self.access.token_source}>.")

    def middleware(self) -> Middleware:
        @web.middleware
        async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
            host = parse_host(request.headers.get("Host", ""))
            if host is None or not self.host_ok(host):
                return refuse(403, f"This playground answers only at 127.0.0.1, localhost or [::1], not "
                                   f"{request.headers.get('Host', '')[:100]!r}. If you reach it through a proxy or "
                                   "another name, add that name to REELSMITH_WEB_PUBLIC_HOSTS.")
            origin = request.headers.get("Origin")
            unsafe = request.method not in SAFE_METHODS
            if unsafe and origin is not None and not self.origin_ok(origin, host):
                return refuse(403, "Refused: this request came from another site. Use the playground's own page.")
            auth, why_not = self.credentials(request, origin_matched=origin is not None)
            request[AUTH_KEY] = auth
            if auth is None and (request.method, request.path) not in OPEN_ROUTES:
                return refuse(403, why_not) if why_not else refuse(401, self.sign_in_hint(), bearer=True)
            allowed = BODY_TYPES.get(request.path)
            if unsafe and allowed is not None and request.content_type not in allowed:
                return refuse(415, f"Send this request as {' or '.join(allowed)}, not {request.content_type}.")
            return await handler(request)

        return gate


def refuse(status: int, error: str, *, bearer: bool = False) -> web.Response:
    """A JSON refusal that says what was wrong and how to get in."""
    headers = {"WWW-Authenticate": 'Bearer realm="reelsmith"'} if bearer else None
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """No framing (the moderator buttons cannot be clickjacked), no sniffing, no Referer with our URLs."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
