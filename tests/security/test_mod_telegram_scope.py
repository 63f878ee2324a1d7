# ruff: noqa: F811  (pytest fixtures imported from the Telegram suite are parameters here)
"""Moderator rights stay in their chat (issue 14, section 1), through the real Telegram bot and the fake Bot API.

Anyone can make a group, add the bot and be its admin. From such a rogue group an attacker tries what the
issue lists: zero a victim's credits, give themself credits, approve their own avatar, read a stranger's
usage, revoke a stranger's avatar, ban a stranger; and anonymous admins of two groups share nothing.
"""

from __future__ import annotations

import pytest

from bots.telegram.app import TelegramBot
from core.moderation.consent import Avatars
from core.service import Reelsmith
from core.settings import Settings
from tests.security.mod_helpers import for_telegram, say, say_with_photo, toast
from tests.telegram.conftest import api, bot, until  # noqa: F401  (fixtures)
from tests.telegram.fake_api import GROUP_ANONYMOUS_BOT, FakeBotAPI

HOME = -100777  # the victim's group
ROGUE = -100666  # the attacker's own group
REVIEW = -100555  # the owner's review chat
VICTIM, ATTACKER, RITA, OWNER = 2001, 2002, 2003, 2004
CREDITS = 2


@pytest.fixture
def settings(settings: Settings, api: FakeBotAPI) -> Settings:
    return for_telegram(settings, api, quota_credits=CREDITS, quota_max_in_flight=10,
                        telegram_review_chat_id=str(REVIEW), owner_ids=[f"telegram:{OWNER}"])


@pytest.fixture
def groups(api: FakeBotAPI) -> None:
    api.set_member(HOME, VICTIM, "member")
    api.set_member(HOME, ATTACKER, "member")
    api.set_member(ROGUE, ATTACKER, "creator")
    api.set_member(REVIEW, RITA, "administrator")


def refused(text: str) -> bool:
    return text.startswith("\u26a0")


async def test_a_rogue_groups_zero_quota_does_not_follow_the_victim_home(api: FakeBotAPI, bot: TelegramBot,
                                                                         groups: None) -> None:
    api.set_member(ROGUE, VICTIM, "member")  # the victim is in the rogue group too, so the command is accepted
    answer = await say(api, ROGUE, ATTACKER, f"/mod quota set {VICTIM} 0")
    assert not refused(answer) and "in this chat" in answer, answer

    home = await say(api, HOME, VICTIM, "/imagine a fox at home")
    assert "Queued" in home, home
    there = await say(api, ROGUE, VICTIM, "/imagine a fox over there")
    assert refused(there) and "this chat's limit for you has 0 left" in there, there


async def test_credits_a_rogue_admin_gives_themself_stay_under_the_platform_ceiling(
        api: FakeBotAPI, bot: TelegramBot, groups: None) -> None:
    answer = await say(api, ROGUE, ATTACKER, f"/mod quota set {ATTACKER} 999999")
    assert not refused(answer), answer
    assert not refused(await say(api, ROGUE, ATTACKER, f"/mod quota grant {ATTACKER} 999999"))
    for i in range(CREDITS):
        assert "Queued" in await say(api, ROGUE, ATTACKER, f"/imagine fox {i}")
    in_rogue = await say(api, ROGUE, ATTACKER, "/imagine one more fox")
    assert refused(in_rogue) and "you have 0 left today of your overall credits" in in_rogue, in_rogue
    elsewhere = await say(api, HOME, ATTACKER, "/imagine a fox elsewhere")
    assert refused(elsewhere) and "overall credits" in elsewhere, elsewhere
    # Overall credits are the owners' business: asking for them from the rogue group is refused.
    global_grant = await say(api, ROGUE, ATTACKER, f"/mod quota grant global {ATTACKER} 50")
    assert refused(global_grant) and "review chat" in global_grant, global_grant


async def test_nobody_approves_their_own_avatar(api: FakeBotAPI, bot: TelegramBot, groups: None,
                                                service: Reelsmith) -> None:
    submitted = await say_with_photo(api, ROGUE, ATTACKER, "/avatar")
    assert "A moderator will check" in submitted, submitted
    own = await say(api, ROGUE, ATTACKER, f"/mod avatar approve {ATTACKER}")
    assert refused(own) and "review chat" in own, own
    face = await say_with_photo(api, HOME, ATTACKER, "/edit make it a painting")
    assert refused(face) and "shows a face" in face, face
    # Not even an owner decides their own.
    await say_with_photo(api, OWNER, OWNER, "/avatar")
    owner = await say(api, OWNER, OWNER, f"/mod avatar approve {OWNER}")
    assert refused(owner) and "Nobody decides their own avatar" in owner, owner
    assert not await Avatars(service.redis, service.settings).verified("telegram", str(OWNER))


async def test_avatar_review_goes_to_the_review_chat_and_records_who_where_when(
        api: FakeBotAPI, bot: TelegramBot, groups: None, service: Reelsmith) -> None:
    await say_with_photo(api, HOME, VICTIM, "/avatar")
    notices = await until(lambda: [c for c in api.sent("sendPhoto", chat_id=REVIEW) if c.callback_data()])
    [notice] = notices
    approve = next(d for d in notice.callback_data() if d.startswith("rs:mava:"))
    api.press(REVIEW, ATTACKER, notice.result, approve)  # not an admin of the review chat
    assert "Only moderators in the review chat" in await toast(api, 0)
    api.press(REVIEW, RITA, notice.result, approve)
    assert "approved" in await toast(api, 1)
    record = await Avatars(service.redis, service.settings).verification("telegram", str(VICTIM))
    assert record is not None and (record.by, record.platform, record.chat) == (str(RITA), "telegram", str(REVIEW))
    assert record.at > 0
    assert "Queued" in await say_with_photo(api, HOME, VICTIM, "/edit make it a painting")


async def test_a_rogue_admin_cannot_revoke_a_strangers_avatar_or_read_their_usage(
        api: FakeBotAPI, bot: TelegramBot, groups: None) -> None:
    await say_with_photo(api, HOME, VICTIM, "/avatar")
    assert "approved" in await say(api, OWNER, OWNER, f"/mod avatar approve {VICTIM}")  # an owner, from anywhere
    revoke = await say(api, ROGUE, ATTACKER, f"/mod avatar revoke {VICTIM}")
    assert refused(revoke), revoke
    usage = await say(api, ROGUE, ATTACKER, f"/mod quota usage {VICTIM}")
    assert refused(usage) and "is not a member of this chat" in usage, usage
    assert "Queued" in await say_with_photo(api, HOME, VICTIM, "/edit make it a painting")  # still verified


async def test_a_moderator_acts_only_on_members_of_their_chat(api: FakeBotAPI, bot: TelegramBot,
                                                              groups: None) -> None:
    ban = await say(api, ROGUE, ATTACKER, f"/mod ban {VICTIM} 1w")
    assert refused(ban) and f"{VICTIM} is not a member of this chat" in ban, ban
    api.set_member(ROGUE, VICTIM, "member")  # had the ban been stored, it would bite now
    assert "Queued" in await say(api, ROGUE, VICTIM, "/imagine a fox")
    banned = await say(api, ROGUE, ATTACKER, f"/mod ban {VICTIM} 1w")  # now a member: allowed, here only
    assert not refused(banned) and "banned" in banned, banned
    assert "banned from generating in this chat" in await say(api, ROGUE, VICTIM, "/imagine a fox")
    assert "Queued" in await say(api, HOME, VICTIM, "/imagine a fox")


async def test_anonymous_admins_of_two_groups_share_nothing(api: FakeBotAPI, bot: TelegramBot,
                                                           service: Reelsmith) -> None:
    # An owner who pasted GroupAnonymousBot's id from a log must not make every group's anonymous admin an owner.
    service.settings.owner_ids.append(f"telegram:{GROUP_ANONYMOUS_BOT['id']}")
    for i in range(CREDITS):
        assert "Queued" in await say(api, HOME, 0, f"/imagine fox {i}", anonymous=True)
    assert "Queued" in await say(api, ROGUE, 0, "/imagine a fox", anonymous=True)  # its own bucket
    kill = await say(api, ROGUE, 0, "/mod kill on", anonymous=True)
    assert refused(kill) and "Only the service owners" in kill, kill
    assert "paused" in await say(api, HOME, 0, "/mod pause", anonymous=True)  # a moderator of its own group
    assert "Queued" in await say(api, ROGUE, ATTACKER, "/imagine a fox")
