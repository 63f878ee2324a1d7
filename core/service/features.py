"""The feature list: every feature Reelsmith runs, in order. The service (bot side) and the worker are both
assembled from it, so adapters and workers get the same behaviour without knowing which features exist.

Order matters where steps of the same kind meet: commands appear in /help and command menus in this order,
refusal listeners and worker steps run in it; guards run by their own order numbers (`core.contract`).
"""

from __future__ import annotations

from arq.connections import ArqRedis

from core.billing.entitlements import EntitlementBook
from core.canvas.feature import canvas_feature
from core.clock import Clock, system_clock
from core.contract import Feature
from core.extend import extend_feature
from core.labelling.steps import labelling_feature
from core.model_access import ModelAccess, model_access_feature
from core.moderation.feature import moderation_feature
from core.moderation.toolkit import Moderation
from core.ops.metrics import metrics_feature
from core.quotas.admin import ModeratorQuotas
from core.quotas.book import QuotaBook
from core.quotas.guard import quota_feature
from core.selfservice import selfservice_feature
from core.service.facade import Reelsmith
from core.settings import Settings
from core.styles.feature import styles_feature
from core.variants import variants_feature


def build_features(settings: Settings, redis: ArqRedis, clock: Clock = system_clock) -> list[Feature]:
    """Model choice (first: it settles each request's model), quotas, moderation (with `/mod quota` on the same
    book), styles, variants (several images, U/V buttons), metrics and labelling."""
    book = QuotaBook(redis, settings, clock)
    mod = Moderation.build(settings, redis, quota=ModeratorQuotas(book), clock=clock)
    return [
        model_access_feature(ModelAccess(settings, redis), mod),
        quota_feature(book, EntitlementBook(redis, settings, clock)),  # bought tiers (Discord SKUs)
        moderation_feature(mod),
        selfservice_feature(mod),  # before styles: it records the command as typed
        styles_feature(redis, mod),
        variants_feature(redis, mod),
        metrics_feature(settings, redis),
        labelling_feature(settings, redis),
        extend_feature(),
        canvas_feature(),
    ]


def build_service(settings: Settings, redis: ArqRedis) -> Reelsmith:
    """The service with every feature's guards, commands, buttons and refusal listeners."""
    return Reelsmith(settings, redis, build_features(settings, redis))
