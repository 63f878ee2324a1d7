"""Host names: which ones only this machine can reach, and strict parsing of `host[:port]`."""

from __future__ import annotations

import ipaddress
import re

LOOPBACK_NAMES = ("localhost",)
WILDCARDS = ("", "0.0.0.0", "::", "[::]")
_HOST_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?$")

Address = tuple[str, int | None]


def parse_host(value: str) -> Address | None:
    """(lower-cased name, port or None) of a `host[:port]` such as a Host header; None if it is anything else
    (user info, paths, schemes: what a URL parser would quietly accept)."""
    match = _HOST_RE.match(value.strip())
    if match is None:
        return None
    name = match["v6"] or match["name"]
    return name.lower(), int(match["port"]) if match["port"] else None


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1, with or without brackets)."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name in LOOPBACK_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False  # any other name may resolve to a public address
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def is_wildcard(bind_host: str) -> bool:
    """True for an address that binds every interface."""
    return bind_host.strip() in WILDCARDS


def url_host(bind_host: str) -> str:
    """The host to put in a URL for a server bound to `bind_host` (wildcards: this machine's 127.0.0.1)."""
    if is_wildcard(bind_host):
        return "127.0.0.1"
    if ":" in bind_host and not bind_host.startswith("["):
        return f"[{bind_host}]"
    return bind_host
