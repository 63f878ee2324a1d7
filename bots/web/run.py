"""The playground as `reelsmith` starts it: always on in `reelsmith run`, alone in `reelsmith bot web`."""

from __future__ import annotations

from bots.adapter import Adapter
from bots.web.app import Served, serve
from core.service import Reelsmith


async def start(service: Reelsmith) -> Served:
    """Serve the playground on the configured address and print its one-time sign-in link."""
    settings = service.settings
    served = await serve(service, settings.web_host, settings.web_port)
    # The link's nonce works once and expires, so this line is safe to leave in a terminal or a log.
    print(f"Reelsmith playground: {served.sign_in_url}  (one-time sign-in link, valid for "
          f"{settings.web_link_ttl_s / 60:g} min)", flush=True)
    return served


ADAPTER = Adapter(name="web", start=start)
