"""What members and moderators read about credits: refusals, `/quota`, durations and times."""

from __future__ import annotations

import math
import time

from core.i18n import N_, _, ngettext, translate
from core.quotas.book import DEFAULT_TIER, ChatLimit, Decision, Usage
from core.types import GenerationRequest

# What a request is, after "This ..." in a refusal (`JobKind` values).
KIND_NAMES = {"image": N_("image"), "edit": N_("edit"), "video": N_("video"), "animate": N_("animate"),
              "meme": N_("meme"), "upscale": N_("upscale"), "extend": N_("extend"), "inpaint": N_("inpaint")}


def refusal_text(d: Decision, cost: int, request: GenerationRequest, now: float, window_s: int) -> str:
    """What the member reads when a quota stops a request: why, and when or how it can pass."""
    window = window_name(window_s)
    kind = translate(KIND_NAMES.get(request.kind.value, request.kind.value))
    what = ngettext("This {kind} costs {n} credit", "This {kind} costs {n} credits", cost, kind=kind)
    if d.reason == "cooldown":
        return _("Please wait {duration} between jobs, then send it again.", duration=duration_text(d.wait_s))
    if d.reason == "in_flight":
        return ngettext("You already have {n} job queued or rendering, the most you can have at once. Send this "
                        "again when one has finished.",
                        "You already have {n} jobs queued or rendering, the most you can have at once. Send this "
                        "again when one has finished.", d.in_flight)
    cheaper = (" " + (_("Fewer --steps, fewer frames or a smaller size cost less.") if request.kind.is_video
                      else _("Fewer --steps or a smaller size cost less."))) if cost > 1 else ""
    when = "" if d.wait_s < 0 else " " + _("Enough credits are back {when}.", when=when_text(now + d.wait_s, now))
    if d.reason == "credits":
        return _("{what}, and you have {remaining} left {window} of your overall credits (they count in every "
                 "chat).", what=what, remaining=d.remaining, window=window) + when + cheaper
    if d.reason == "member":
        return _("{what}, and this chat's limit for you has {remaining} left {window} (set by this chat's "
                 "moderators; it applies only here).", what=what, remaining=d.remaining, window=window) + when + cheaper
    if d.reason == "chat":
        return _("{what}, and this chat has {remaining} of its shared credits left {window}.", what=what,
                 remaining=d.remaining, window=window) + when + cheaper
    return _("This request is already queued.")


def quota_text(u: Usage, now: float) -> str:
    """The `/quota` answer (plain text, every platform)."""
    lines = [(_("Credits: {remaining} of {budget} left ({tier} tier).", remaining=u.remaining, budget=u.budget,
                tier=u.tier.name) if u.tier.name != DEFAULT_TIER
              else _("Credits: {remaining} of {budget} left.", remaining=u.remaining, budget=u.budget))]
    lines.append(_("Jobs in flight: {in_flight} of {max_in_flight}.", in_flight=u.in_flight,
                   max_in_flight=u.tier.max_in_flight))
    if u.paid:
        lines.append(_("Bought credits: {paid} (they never lapse; used when a job doesn't fit in the above).",
                       paid=u.paid))
    if u.next_credit_at is None:
        lines.append(_("Nothing spent in the current window: your full budget is available."))
    elif u.full_at is not None and u.full_at - u.next_credit_at < 1:
        lines.append(_("Window resets {when}.", when=when_text(u.full_at, now)))
    else:
        assert u.full_at is not None
        lines.append(_("Credits come back as the window rolls: the first {first}, all {all}.",
                       first=when_text(u.next_credit_at, now), all=when_text(u.full_at, now)))
    if u.cooldown_left_s > 0:
        lines.append(_("Cooldown: next job in {duration}.", duration=duration_text(u.cooldown_left_s)))
    if u.member is not None and u.member.limit is not None:
        lines.append(_("This chat's limit for you: {limit}.", limit=limit_text(u.member)))
    if u.chat_budget is not None:
        lines.append(_("This chat: {left} of {budget} shared credits left.",
                       left=max(0, u.chat_budget - u.chat_used), budget=u.chat_budget))
    return "\n".join(lines)


def limit_text(m: ChatLimit) -> str:
    """`7 of 10 left` (with what was granted on top)."""
    if m.granted:
        return _("{remaining} of {limit} (+{granted} granted) left", remaining=m.remaining, limit=m.limit,
                 granted=m.granted)
    return _("{remaining} of {limit} left", remaining=m.remaining, limit=m.limit)


def window_name(window_s: int) -> str:
    """The current window, after "left" or in brackets: `today`, `in this 6 h window`."""
    if window_s == 24 * 3600:
        return _("today")
    return _("in this {duration} window", duration=duration_text(window_s))


def per_window(window_s: int) -> str:
    """How often credits come back, after an amount: `per day`, `per 6 h`."""
    if window_s == 24 * 3600:
        return _("per day")
    return _("per {duration}", duration=duration_text(window_s))


def duration_text(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    s = max(0, math.ceil(seconds))
    if s < 60:
        return _("{s} s", s=s)
    m = math.ceil(s / 60)
    if m < 60:
        return _("{m} min", m=m)
    h, m = divmod(m, 60)
    if h < 48:
        return _("{h} h {m} min", h=h, m=m) if m else _("{h} h", h=h)
    d, h = divmod(h, 24)
    return _("{d} d {h} h", d=d, h=h) if h else _("{d} d", d=d)


def when_text(at: float, now: float) -> str:
    """`in 3 h 5 min (14:05 UTC)`."""
    return _("in {duration} ({time})", duration=duration_text(at - now),
             time=time.strftime('%H:%M UTC', time.gmtime(at)))
