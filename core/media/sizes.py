"""File sizes as members read them: one unit everywhere.

Telegram and Discord state their limits in binary megabytes ("20 MB" is 20 MiB), and their apps show
file sizes the same way, so every size a member reads is counted in 1024s and written "MB" / "KB".
"""

from __future__ import annotations

KB = 1024
MB = 1024 * KB


def human_size(n: int) -> str:
    """A file's size: `31.5 MB`, or `900 KB` under a megabyte."""
    return f"{n / MB:.1f} MB" if n >= MB else f"{max(1, round(n / KB))} KB"


def human_limit(n: int) -> str:
    """A limit as the platforms state theirs: `20 MB` for a whole number of megabytes, else as `human_size`."""
    return f"{n // MB} MB" if n >= MB and n % MB == 0 else human_size(n)
