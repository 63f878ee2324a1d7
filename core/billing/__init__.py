"""Paying for GPU time: paid tiers from platform entitlements (`entitlements`: Discord SKUs)."""

from core.billing.entitlements import Entitlement, EntitlementBook

__all__ = ["Entitlement", "EntitlementBook"]
