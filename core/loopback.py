"""Which host names and addresses only this machine can reach."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost",)
WILDCARDS = ("", "0.0.0.0", "::", "[::]")


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


def url_host(bind_host: str) -> str:
    """The host to put in a URL for a server bound to `bind_host` (wildcards: this machine's 127.0.0.1)."""
    if bind_host.strip() in WILDCARDS:
        return "127.0.0.1"
    if ":" in bind_host and not bind_host.startswith("["):
        return f"[{bind_host}]"
    return bind_host
