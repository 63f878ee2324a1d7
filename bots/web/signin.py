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
from bots.web.page import html_lang, html_text, request_locale
from core.i18n import N_

# In the browser's language (Accept-Language), like the playground page.
LINK_USED = N_("This sign-in link was already used or has expired. Links work once: start Reelsmith again for a "
               "new one, or paste the access token below.")
NOT_SIGNED_IN = N_("You are not signed in (or your session has ended).")
WRONG_TOKEN = N_("That is not this playground's access token.")
TITLE = N_("Sign in \u00b7 Reelsmith playground")
HEADING = N_("Reelsmith playground: sign in")
HOW = N_("This console is the owner's: it can run moderator commands. To get in, open the link Reelsmith printed "
         "when it started, {link} (in the terminal, or {compose} / {kubectl}). Each link works once, for a short "
         "while: start Reelsmith again ({run}) for a new one.")
# What HOW names, as printed or typed.
HOW_CODE = {"link": "Reelsmith playground: http://127.0.0.1:8080/?token=\u2026",
            "compose": "docker compose logs playground", "kubectl": "kubectl logs", "run": "scripts/run.sh"}
PASTE = N_("Or paste the access token ({source}):")
TOKEN_LABEL = N_("Access token")
SIGN_IN = N_("Sign in")
SIGNED_IN_TITLE = N_("Signed in \u00b7 Reelsmith playground")
OPENING = N_("Signed in. Opening the playground\u2026")
NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept-Language"}


def _static(name: str) -> str:
    return resources.files("bots.web").joinpath(f"static/{name}").read_text("utf-8")


class SignIn:
    """The sign-in handlers, bound to the owner's credentials."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._page = Template(_static("signin.html"))
        self._done = Template(_static("signed_in.html"))

    def page(self, request: web.Request, message: str, status: int = 401) -> web.Response:
        """The sign-in page: what was wrong and how to get in, in the browser's language."""
        locale = request_locale(request)

        def t(text: str) -> str:
            return html_text(text, locale)

        how = html_text(HOW, locale, HOW_CODE)
        text = self._page.substitute(lang=html_lang(locale), title=t(TITLE), heading=t(HEADING), message=t(message),
                                     how=how, paste=t(PASTE).format(source=html.escape(self.access.token_source)),
                                     token_label=t(TOKEN_LABEL), sign_in=t(SIGN_IN))
        return web.Response(text=text, status=status, content_type="text/html", headers=NO_STORE)

    def signed_in(self, request: web.Request, *, new_session: bool) -> web.Response:
        locale = request_locale(request)
        text = self._done.substitute(lang=html_lang(locale), title=html_text(SIGNED_IN_TITLE, locale),
                                     opening=html_text(OPENING, locale))
        resp = web.Response(text=text, content_type="text/html", headers=NO_STORE)
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
            return self.page(request, LINK_USED)
        if auth_of(request) is None:
            return self.page(request, NOT_SIGNED_IN)
        return None

    async def login(self, request: web.Request) -> web.Response:
        """`POST /login` from the sign-in page's form."""
        form = await request.post()
        token = form.get("token")
        if isinstance(token, str) and token and self.access.token_ok(token):
            return self.signed_in(request, new_session=True)
        return self.page(request, WRONG_TOKEN)
