"""Credits and fair shares: what a job costs (`costs`), the quota book with its two layers, overall credits
and chat limits (`book`), its guard, `/quota` and refund finalizer (`guard`: the feature), what members read
(`texts`), and the moderators' overrides (`admin`)."""

from core.quotas.admin import ModeratorQuotas
from core.quotas.book import QuotaBook, TierMap, Usage
from core.quotas.costs import job_cost
from core.quotas.guard import UPGRADE, EarnedTiers, QuotaGuard, member_tier, quota_feature, refund_finalizer

__all__ = ["UPGRADE", "EarnedTiers", "ModeratorQuotas", "QuotaBook", "QuotaGuard", "TierMap", "Usage", "job_cost",
           "member_tier", "quota_feature", "refund_finalizer"]
