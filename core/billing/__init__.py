"""Paying for GPU time: credit packs, the offers (invoice payloads) that sell them, the purchases ledger, and paid
tiers from platform entitlements (`entitlements`: Discord SKUs).

Platform-neutral: an adapter turns an `Offer` into its platform's invoice (Telegram Stars), asks
`check_offer` before accepting a payment, and hands the completed payment to `PurchaseLedger.credit`, which
credits it exactly once per charge id (atomically with its audit entry). Bought credits sit in the member's
quota book (`core.quotas.book.QuotaBook.paid_key`) and never lapse with the window. Entitlements map SKUs to
quota tiers (`EntitlementBook`), kept in sync from the platform's events and each interaction.
"""

from core.billing.entitlements import Entitlement, EntitlementBook
from core.billing.ledger import Purchase, PurchaseLedger, Refunded, revenue_text
from core.billing.offers import CURRENCY_STARS, Offer, check_offer, new_offer, pack_title

__all__ = ["CURRENCY_STARS", "Entitlement", "EntitlementBook", "Offer", "Purchase", "PurchaseLedger", "Refunded",
           "check_offer", "new_offer", "pack_title", "revenue_text"]
