"""Signing the owner's browser in: the one-time link (`/?token=<nonce>`), the token form, the sign-in page.

A good link or token answers with a small page that sets the session cookie (HttpOnly, SameSite=Strict)
and replaces itself with `/`. Not a 303: a redirect inherits the link's initiator, so a link clicked on
another site would arrive at `/` without the Strict cookie; a navigation from our own page is same-site,
and `location.replace` drops the URL with the nonce from the tab's history.
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template

from aiohttp import web

from bots.web.access import Access
from bots.web.gate import auth_of

LINK_USED = ("This sign-in link was already used or has expired. Links work once: start Reelsmith again for a "
             "new one, or paste the access token below.")
NOT_SIGNED_IN = "You are not signed in (or your session has ended)."
WRONG_TOKEN = "That is not this playground's access token."
NO_STORE = {"Cache-Control": "no-store"}


def _static(name: str) -> str:
    return resources.files("bots.web").joinpath(f"static/{name}").read_text("utf-8")


class SignIn:
    """The sign-in handlers, bound to the owner's credentials."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._page = Template(_static("signin.html"))
        self._done = _static("signed_in.html")

    def page(self, message: str, status: int = 401) -> web.Response:
        """The sign-in page: what was wrong and how to get in."""
        text = self._page.safe_substitute(message=html.escape(message),
                                          token_source=html.escape(self.access.token_source))
        return web.Response(text=text, status=status, content_type="text/html", headers=NO_STORE)

    def signed_in(self, request: web.Request, *, new_session: bool) -> web.Response:
        resp = web.Response(text=self._done, content_type="text/html", headers=NO_STORE)
        if new_session:
            # Behind a TLS proxy the connection here is plain HTTP; the proxy's header only decides the flag.
            secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
            resp.set_cookie(self.access.cookie_name, self.access.new_session(), max_age=self.access.session_ttl_s,
                            path="/", httponly=True, samesite="Strict", secure=secure or None)
        return resp

    def before_page(self, request: web.Request) -> web.Response | None:
        """For `GET /`: a link to redeem or a stranger to sign in; None when the playground may be shown."""
        nonce = request.query.get("token")
        if nonce is not None:
            if self.access.redeem_link(nonce):
                return self.signed_in(request, new_session=True)
            if auth_of(request) is not None:
                return self.signed_in(request, new_session=False)  # an old link, already signed in: clean URL
            return self.page(LINK_USED)
        if auth_of(request) is None:
            return self.page(NOT_SIGNED_IN)
        return None

    async def login(self, request: web.Request) -> web.Response:
        """`POST /login` from the sign-in page's form."""
        form = await request.post()
        token = form.get("token")
        if isinstance(token, str) and token and self.access.token_ok(token):
            return self.signed_in(request, new_session=True)
        return self.page(WRONG_TOKEN)
