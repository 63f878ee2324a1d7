"""Tier mapping: Discord role ids, configured moderators, configured user ids; the most generous tier wins."""

from __future__ import annotations

import pytest

from core.context import ChatContext
from core.quotas.book import TierMap
from core.settings import QuotaTier, Settings
from core.types import Requester
from tests.quotas.conftest import MakeService

MEMBER = Requester(platform="discord", user_id="42", chat_id="guild")
PATRON = "111222333444"  # a role id (role names can be copied by any server owner)


def _settings(**changes: object) -> Settings:
    base = dict(
        quota_credits=10,
        quota_tiers={"supporter": QuotaTier(credits=100, weight=2), "staff": QuotaTier(credits=50, max_in_flight=5),
                     "vip": QuotaTier(credits=100, weight=4, cooldown_s=5)},
        quota_tier_roles={PATRON: "supporter", "1234567890": "vip"},
        quota_tier_users={"telegram:7": "supporter", "discord:42": "staff"},
        quota_moderator_tier="staff",
        moderator_ids=["discord:9"],
    )
    base.update(changes)
    return Settings(_env_file=None, **base)  # type: ignore[arg-type]


def test_tier_mapping() -> None:
    tiers = TierMap(_settings())
    stranger = Requester(platform="discord", user_id="1", chat_id="guild")
    assert tiers.for_member(stranger).name == "default"
    assert tiers.for_member(stranger, ChatContext(roles=(PATRON,))).name == "supporter"
    # Anyone can make a chat and moderate it: only configured moderators get the moderator tier.
    assert tiers.for_member(stranger, ChatContext(is_moderator=True)).name == "default"
    assert tiers.for_member(Requester(platform="discord", user_id="9", chat_id="guild")).name == "staff"
    assert tiers.for_member(Requester(platform="telegram", user_id="7", chat_id="x")).name == "supporter"
    assert tiers.for_member(Requester(platform="discord", user_id="7", chat_id="x")).name == "default"  # per platform
    # Several fit: most credits, then the higher weight.
    assert tiers.for_member(MEMBER, ChatContext(roles=(PATRON,))).name == "supporter"
    assert tiers.for_member(MEMBER, ChatContext(roles=(PATRON, "1234567890"))).name == "vip"
    staff = tiers.for_member(MEMBER)
    assert (staff.credits, staff.max_in_flight, staff.cooldown_s, staff.weight) == (50, 5, 0.0, 1.0)  # inherits


def test_unknown_tier_names_fail_at_start_up() -> None:
    with pytest.raises(ValueError, match="gold"):
        TierMap(_settings(quota_tier_roles={PATRON: "gold"}))


def test_tiers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSMITH_QUOTA_TIERS", '{"supporter": {"credits": 80, "weight": 3}}')
    monkeypatch.setenv("REELSMITH_QUOTA_TIER_ROLES", f'{{"{PATRON}": "supporter"}}')
    tier = TierMap(Settings(_env_file=None)).for_member(MEMBER, ChatContext(roles=(PATRON,)))
    assert (tier.name, tier.credits, tier.weight) == ("supporter", 80, 3.0)


async def test_tier_limits_and_priority_apply(make_service: MakeService) -> None:
    s = _settings()
    service, book = await make_service(quota_tiers=s.quota_tiers, quota_tier_roles=s.quota_tier_roles,
                                       quota_credits=1, quota_max_in_flight=10)
    patron = ChatContext(roles=(PATRON,))
    first = await service.handle(MEMBER, "/imagine a", ctx=patron)
    assert first.ok and first.request is not None and first.request.priority == 2.0
    assert (await service.handle(MEMBER, "/imagine b", ctx=patron)).ok  # 100 credits, not 1
    out = await service.handle(MEMBER, "/imagine c")  # without the role: the default tier's 1 credit
    assert not out.ok and "you have 0 left today" in out.text, out.text
    usage = await book.usage("discord", "42", book.tiers.for_member(MEMBER, patron))
    assert (usage.budget, usage.used) == (100, 2)
