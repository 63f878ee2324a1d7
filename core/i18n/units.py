"""Durations in the reader's units: CLDR's short units (`2 Std.`, `2 時間`, `2 ч`), English as moderators type
them (`2h`, `30m`, `1w`).

Abbreviated units read the same in every grammatical case, so a duration fits any sentence around it (Russian
"на 1 нед." where the spelled-out word would need the accusative).
"""

from __future__ import annotations

import math

from babel.units import format_unit

from core.i18n.locale import DEFAULT_LOCALE, current_locale

_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def duration_units(seconds: float) -> str:
    """`seconds` in its largest whole unit (weeks at most), rounded, in the current locale."""
    for unit, size in _UNITS:
        if seconds >= size:
            return _unit(round(seconds / size), unit)
    return _unit(max(1, math.ceil(seconds)), "second")


def _unit(n: int, unit: str) -> str:
    locale = current_locale()
    return format_unit(n, f"duration-{unit}", length="narrow" if locale == DEFAULT_LOCALE else "short",
                       locale=locale)
