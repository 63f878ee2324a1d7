# ruff: noqa: F811  (pytest fixtures imported from the Telegram suite are parameters here)
"""Moderator rights stay in their chat (issue 14, section 1), through the real Telegram bot and the fake Bot API.

Anyone can make a group, add the bot and be its admin. From such a rogue group an attacker tries what the
issue lists: zero a victim's credits, give themself credits, approve their own avatar, read a stranger's
usage, revoke a stranger's avatar, ban a stranger; and anonymous admins of two groups share nothing.
"""

from __future__ import annotations

import json

import pytest

from bots.telegram.app import TelegramBot
from core.moderation.consent import Avatars
from core.service.facade import Reelsmith
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
    assert not refused(answer), answer

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


async def _approved_in_review_chat(api: FakeBotAPI, user: int) -> None:
    """`user` sends /avatar at home; an admin of the review chat presses Approve on the notice there."""
    await say_with_photo(api, HOME, user, "/avatar")
    notices = await until(lambda: [c for c in api.sent("sendPhoto", chat_id=REVIEW) if c.callback_data()])
    approve = next(d for d in notices[-1].callback_data() if d.startswith("rs:mava:"))
    pressed = len([c for c in api.sent("answerCallbackQuery") if c.params.get("text")])
    api.press(REVIEW, RITA, notices[-1].result, approve)
    assert "approved" in await toast(api, pressed)


async def test_avatar_review_goes_to_the_review_chat_and_records_who_where_when(
        api: FakeBotAPI, bot: TelegramBot, groups: None, service: Reelsmith) -> None:
    await say_with_photo(api, HOME, VICTIM, "/avatar")
    [notice] = await until(lambda: [c for c in api.sent("sendPhoto", chat_id=REVIEW) if c.callback_data()])
    approve = next(d for d in notice.callback_data() if d.startswith("rs:mava:"))
    api.press(REVIEW, ATTACKER, notice.result, approve)  # not an admin of the review chat
    assert "Only moderators in the review chat" in await toast(api, 0)
    api.press(REVIEW, RITA, notice.result, approve)
    assert "approved" in await toast(api, 1)
    raw = await service.redis.get(service.settings.key("mod", "avatar", "telegram", str(VICTIM)))
    record = json.loads(raw)
    assert (record.get("by"), record.get("platform"), record.get("chat")) == (str(RITA), "telegram", str(REVIEW))
    assert record["at"] > 0
    assert "Queued" in await say_with_photo(api, HOME, VICTIM, "/edit make it a painting")


async def test_a_rogue_admin_cannot_revoke_a_strangers_avatar_or_read_their_usage(
        api: FakeBotAPI, bot: TelegramBot, groups: None) -> None:
    await _approved_in_review_chat(api, VICTIM)
    revoke = await say(api, ROGUE, ATTACKER, f"/mod avatar revoke {VICTIM}")
    assert refused(revoke), revoke
    usage = await say(api, ROGUE, ATTACKER, f"/mod quota usage {VICTIM}")
    assert refused(usage) and "is not a member of this chat" in usage, usage
    assert "Queued" in await say_with_photo(api, HOME, VICTIM, "/edit make it a painting")  # still verified
    # An owner decides avatars from anywhere, e.g. their private chat with the bot.
    assert "no longer verified" in await say(api, OWNER, OWNER, f"/mod avatar revoke {VICTIM}")


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


async def test_only_owners_ban_platform_wide(api: FakeBotAPI, bot: TelegramBot, groups: None) -> None:
    rogue = await say(api, ROGUE, ATTACKER, f"/mod ban global {ATTACKER}")
    assert refused(rogue) and "review chat" in rogue, rogue
    banned = await say(api, OWNER, OWNER, f"/mod ban global {VICTIM} 1d")
    assert not refused(banned) and "everywhere on telegram" in banned, banned
    for chat in (HOME, ROGUE, VICTIM):  # every group, and the private chat
        answer = await say(api, chat, VICTIM, "/imagine a fox")
        assert refused(answer) and "banned from generating with this service" in answer, (chat, answer)
    assert "may generate again" in await say(api, OWNER, OWNER, f"/mod unban global {VICTIM}")
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
