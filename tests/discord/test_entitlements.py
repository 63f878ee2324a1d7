"""Discord SKUs and entitlements -> quota tiers (issue 20): entitlement events and the entitlements interactions
carry keep the member's tier in sync; out of credits, the refusal offers the upgrade with a premium button.

Through the real discord.py client, the fake Discord's gateway and a real Redis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bots.discord.client import ReelsmithBot
from core.billing import EntitlementBook
from core.moderation.audit import AuditLog
from core.settings import QuotaTier, Settings
from tests.conftest import wait_for
from tests.discord.fake_discord import GUILD_ID, SKU_ID, USER_ID, FakeDiscord, Sent, person
from tests.security.mod_helpers import for_discord

OTHER_SKU_ID = 980000000000000099  # an SKU no tier is mapped to


@pytest.fixture
def settings(settings: Settings, fake: FakeDiscord) -> Settings:
    return for_discord(settings, fake, quota_credits=0, quota_tiers={"supporter": QuotaTier(credits=100)},
                       discord_sku_tiers={str(SKU_ID): "supporter"})


async def _answer(fake: FakeDiscord, command: str, text: str, **kw: Any) -> Sent:
    """The bot's answer to `/command`: its public original, or its private follow-up."""
    option = "prompt" if command == "imagine" else "text"
    token = await fake.slash(command, {option: text} if text else {}, **kw)

    async def answered() -> Sent | None:
        original = fake.original(token)
        if original is None:
            return None
        for m in fake.messages.values():
            if m.via == "followup" and m.ephemeral and m.id > original.id and \
                    m.payload["channel_id"] == original.payload["channel_id"]:
                return m
        return original if original.history else None

    return await wait_for(answered, timeout=20)  # type: ignore[no-any-return]


async def _tiers(settings: Settings, bot: ReelsmithBot) -> list[str]:
    return await EntitlementBook(bot.service.redis, settings).tiers("discord", str(USER_ID))


async def test_entitlement_events_grant_and_remove_the_tier(fake: FakeDiscord, bot: ReelsmithBot,
                                                           settings: Settings) -> None:
    assert "Credits: 0 of 0 left." in (await _answer(fake, "quota", "")).content
    bought = fake.entitlement()
    await fake.entitlement_event("ENTITLEMENT_CREATE", bought)
    await wait_for(lambda: _has_tier(settings, bot))
    assert "Credits: 100 of 100 left (supporter tier)." in (await _answer(fake, "quota", "")).content

    await fake.entitlement_event("ENTITLEMENT_DELETE", {**bought, "deleted": True})  # refunded
    await wait_for(lambda: _no_tier(settings, bot))
    assert "Credits: 0 of 0 left." in (await _answer(fake, "quota", "")).content
    audit = [e.action for e in await AuditLog(bot.service.redis, settings).recent()]
    assert "entitlement granted" in audit and "entitlement removed" in audit, audit

    # An SKU nobody mapped gives nothing; an update that ends it now removes the tier.
    await fake.entitlement_event("ENTITLEMENT_CREATE", fake.entitlement(sku_id=OTHER_SKU_ID))
    renewed = fake.entitlement()
    await fake.entitlement_event("ENTITLEMENT_CREATE", renewed)
    await wait_for(lambda: _has_tier(settings, bot))
    assert await _tiers(settings, bot) == ["supporter"]
    ended = {**renewed, "ends_at": (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()}
    await fake.entitlement_event("ENTITLEMENT_UPDATE", ended)
    await wait_for(lambda: _no_tier(settings, bot))


async def test_the_entitlements_an_interaction_carries_keep_the_tier(fake: FakeDiscord, bot: ReelsmithBot) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    quota = await _answer(fake, "quota", "", entitlements=[fake.entitlement(ends_at=later)])
    assert "Credits: 100 of 100 left (supporter tier)." in quota.content, quota.content
    # Ended or refunded while no event reached the bot: the next interaction lists it no more.
    quota = await _answer(fake, "quota", "", entitlements=[])
    assert "Credits: 0 of 0 left." in quota.content, quota.content


async def test_out_of_credits_offers_the_upgrade_with_a_premium_button(fake: FakeDiscord,
                                                                       bot: ReelsmithBot, settings: Settings) -> None:
    refused = await _answer(fake, "imagine", "a fox")
    assert refused.ephemeral and refused.content.startswith("\u26a0") and "credit" in refused.content
    assert refused.premium_skus == [str(SKU_ID)], refused.payload.get("components")

    await fake.entitlement_event("ENTITLEMENT_CREATE", fake.entitlement())
    await wait_for(lambda: _has_tier(settings, bot))
    queued = await _answer(fake, "imagine", "a fox")
    assert "Queued" in queued.content and not queued.premium_skus, queued.content


async def _has_tier(settings: Settings, bot: ReelsmithBot) -> bool:
    return await _tiers(settings, bot) == ["supporter"]


async def _no_tier(settings: Settings, bot: ReelsmithBot) -> bool:
    return await _tiers(settings, bot) == []


async def test_a_server_subscription_gives_its_tier_to_everyone_there_and_only_there(
        fake: FakeDiscord, bot: ReelsmithBot, settings: Settings) -> None:
    other = person(USER_ID + 5, "Bea")
    server_sub = fake.entitlement(user_id=None, guild_id=GUILD_ID)
    await fake.entitlement_event("ENTITLEMENT_CREATE", server_sub)
    book = EntitlementBook(bot.service.redis, settings)

    async def held() -> bool:
        return await book.tiers("discord", str(USER_ID), (str(GUILD_ID),)) == ["supporter"]

    await wait_for(held)
    for who in (None, other):  # every member of the server, in the server
        quota = await _answer(fake, "quota", "", **({"user": who} if who else {}))
        assert "Credits: 100 of 100 left (supporter tier)." in quota.content, quota.content
    # Not the members' own tier: in a DM it gives nothing.
    assert "Credits: 0 of 0 left." in (await _answer(fake, "quota", "", dm=True)).content
    assert await book.tiers("discord", str(USER_ID)) == []
    # Refunded while no event reached the bot: the next interaction in the server lists it no more.
    fake.entitlements.clear()
    assert "Credits: 0 of 0 left." in (await _answer(fake, "quota", "")).content
    audit = [(e.user_id, e.action) for e in await AuditLog(bot.service.redis, settings).recent()]
    assert (f"scope:{GUILD_ID}", "entitlement granted") in audit and \
        (f"scope:{GUILD_ID}", "entitlement removed") in audit, audit
