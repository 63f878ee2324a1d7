"""Moderation: bans, on/off switches, blocklists, likeness and voice consent, reports and review buttons,
`/mod` and `/avatar`, the audit log, and the NSFW result gate. `feature.moderation_feature` declares it all;
`toolkit.Moderation` holds the stores its parts share."""

from core.moderation.feature import moderation_feature
from core.moderation.guards import NSFW_FLAGGED_TEXT
from core.moderation.toolkit import Moderation, QuotaAdmin

__all__ = ["NSFW_FLAGGED_TEXT", "Moderation", "QuotaAdmin", "moderation_feature"]
