"""What members and moderators read about credits: refusals, `/quota`, durations and times."""

from __future__ import annotations

import math
import time

from core.quotas.book import DEFAULT_TIER, ChatLimit, Decision, Usage
from core.types import GenerationRequest


def refusal_text(d: Decision, cost: int, request: GenerationRequest, now: float, window_s: int) -> str:
    """What the member reads when a quota stops a request: why, and when or how it can pass."""
    window = window_name(window_s)
    what = f"This {request.kind.value} costs {cost} credit{'s' if cost != 1 else ''}"
    if d.reason == "cooldown":
        return f"Please wait {duration_text(d.wait_s)} between jobs, then send it again."
    if d.reason == "in_flight":
        return (f"You already have {d.in_flight} job{'s' if d.in_flight != 1 else ''} queued or rendering, "
                "the most you can have at once. Send this again when one has finished.")
    cheaper = (" Fewer --steps, fewer frames or a smaller size cost less." if request.kind.is_video
               else " Fewer --steps or a smaller size cost less.") if cost > 1 else ""
    when = "" if d.wait_s < 0 else f" Enough credits are back {when_text(now + d.wait_s, now)}."
    if d.reason == "credits":
        return (f"{what}, and you have {d.remaining} left {window} of your overall credits (they count in every "
                f"chat).{when}{cheaper}")
    if d.reason == "member":
        return (f"{what}, and this chat's limit for you has {d.remaining} left {window} (set by this chat's "
                f"moderators; it applies only here).{when}{cheaper}")
    if d.reason == "chat":
        return f"{what}, and this chat has {d.remaining} of its shared credits left {window}.{when}{cheaper}"
    return "This request is already queued."


def quota_text(u: Usage, now: float) -> str:
    """The `/quota` answer (plain text, every platform)."""
    lines = [f"Credits: {u.remaining} of {u.budget} left"
             + (f" ({u.tier.name} tier)" if u.tier.name != DEFAULT_TIER else "") + "."]
    lines.append(f"Jobs in flight: {u.in_flight} of {u.tier.max_in_flight}.")
    if u.paid:
        lines.append(f"Bought credits: {u.paid} (they never lapse; used when a job doesn't fit in the above).")
    if u.next_credit_at is None:
        lines.append("Nothing spent in the current window: your full budget is available.")
    elif u.full_at is not None and u.full_at - u.next_credit_at < 1:
        lines.append(f"Window resets {when_text(u.full_at, now)}.")
    else:
        assert u.full_at is not None
        lines.append(f"Credits come back as the window rolls: the first {when_text(u.next_credit_at, now)}, "
                     f"all {when_text(u.full_at, now)}.")
    if u.cooldown_left_s > 0:
        lines.append(f"Cooldown: next job in {duration_text(u.cooldown_left_s)}.")
    if u.member is not None and u.member.limit is not None:
        lines.append(f"This chat's limit for you: {limit_text(u.member)}.")
    if u.chat_budget is not None:
        lines.append(f"This chat: {max(0, u.chat_budget - u.chat_used)} of {u.chat_budget} shared credits left.")
    return "\n".join(lines)


def limit_text(m: ChatLimit) -> str:
    """`7 of 10 left` (with what was granted on top)."""
    granted = f" (+{m.granted} granted)" if m.granted else ""
    return f"{m.remaining} of {m.limit}{granted} left"


def window_name(window_s: int) -> str:
    """The current window, after "left" or in brackets: `today`, `in this 6 h window`."""
    if window_s == 24 * 3600:
        return "today"
    return f"in this {duration_text(window_s)} window"


def per_window(window_s: int) -> str:
    """How often credits come back, after an amount: `per day`, `per 6 h`."""
    if window_s == 24 * 3600:
        return "per day"
    return f"per {duration_text(window_s)}"


def duration_text(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s} s"
    m = math.ceil(s / 60)
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def when_text(at: float, now: float) -> str:
    """`in 3 h 5 min (14:05 UTC)`."""
    return f"in {duration_text(at - now)} ({time.strftime('%H:%M UTC', time.gmtime(at))})"
