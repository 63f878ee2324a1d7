"""Offers: what one invoice sells, written into its payload so the payment says what it bought.

The payload (at most 128 bytes, seen only by the bot) names the pack, its credits and price at the time of
the offer, the member it was made for and when it expires. Checkout refuses an offer whose pack was removed
or repriced since, one made for someone else, an expired one, or one paid with another amount or currency.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from core.i18n import _, ngettext
from core.settings import CreditPack, Settings

CURRENCY_STARS = "XTR"  # Telegram Stars: digital goods are sold only in Stars
_VERSION = "rs1"
_PACK_RE = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
_USER_RE = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


@dataclass(frozen=True)
class Offer:
    """One pack offered to one member until `expires` (a Unix time)."""

    pack_id: str
    credits: int
    stars: int
    user_id: str
    expires: int
    nonce: str = ""

    def payload(self) -> str:
        return ":".join([_VERSION, self.pack_id, str(self.credits), str(self.stars), self.user_id,
                         str(self.expires), self.nonce])

    @classmethod
    def parse(cls, payload: str) -> Offer | None:
        """The offer in a payload we wrote; None for anything else."""
        parts = payload.split(":")
        if len(parts) != 7 or parts[0] != _VERSION:
            return None
        _v, pack, credits, stars, user, expires, nonce = parts
        if not (_PACK_RE.match(pack) and _USER_RE.match(user) and credits.isdigit() and stars.isdigit()
                and expires.isdigit() and nonce.isalnum()):
            return None
        return cls(pack, int(credits), int(stars), user, int(expires), nonce)


def pack_title(pack_id: str, pack: CreditPack) -> str:
    """The pack's name on its invoice (the owner's title as written, else "N credits" in the buyer's language)."""
    return pack.title or ngettext("{n} credit", "{n} credits", pack.credits)


def new_offer(settings: Settings, pack_id: str, user_id: str, now: float) -> Offer:
    """An offer of one configured pack to one member, valid for `credit_offer_ttl_s`."""
    if not _PACK_RE.match(pack_id) or not _USER_RE.match(user_id):
        raise ValueError(f"pack id {pack_id!r} or user id {user_id!r} cannot go in an invoice payload")
    pack = settings.credit_packs[pack_id]
    return Offer(pack_id, pack.credits, pack.stars, user_id, int(now) + settings.credit_offer_ttl_s,
                 secrets.token_hex(4))


def check_offer(settings: Settings, payload: str, user_id: str, currency: str, amount: int,
                now: float) -> tuple[Offer | None, str]:
    """(the offer, "") when this payment may go ahead; (offer or None, why not) otherwise, for the payer (in the
    current locale: the adapter answers the checkout in the payer's)."""
    offer = Offer.parse(payload)
    if offer is None:
        return None, _("I don't know this invoice. Send /buy for a new one.")
    pack = settings.credit_packs.get(offer.pack_id)
    if pack is None:
        return offer, _("This pack is no longer sold. Send /buy to see the current packs.")
    if (pack.credits, pack.stars) != (offer.credits, offer.stars):
        return offer, _("This pack changed since the invoice was made. Send /buy for a new one.")
    if offer.user_id != user_id:
        return offer, _("This invoice was made for someone else. Send /buy for your own.")
    if offer.expires < now:
        return offer, _("This invoice has expired. Send /buy for a new one.")
    if currency != CURRENCY_STARS or amount != offer.stars:
        return offer, _("The amount doesn't match this pack's price. Send /buy for a new invoice.")
    return offer, ""
