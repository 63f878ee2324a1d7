"""Every /mod command works for this chat's moderators and is refused (and audited) for members."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.context import ChatContext
from tests.moderation.conftest import MEMBER_CTX, MOD_CTX, Rig, everyone_is_a_member, person

# (command, a phrase of the moderator's answer)
MOD_COMMANDS = [
    ("/mod help", "Moderator commands"),
    ("/mod", "Moderator commands"),
    ("/mod ban bob 2h spamming", "bob banned for another 2h (spamming)"),
    ("/mod bans", "Nobody is banned here"),
    ("/mod unban bob", "bob is not banned here"),
    ("/mod quota set bob 5", "bob may now make 5 a day"),
    ("/mod quota grant bob 3", "Granted 3 credits to bob"),
    ("/mod quota usage bob", "bob used 3 of 10"),
    ("/mod usage bob", "bob used 3 of 10"),
    ("/mod pause", "paused in this chat"),
    ("/mod resume", "back on in this chat"),
    ("/mod channel off", "turned off in this channel"),
    ("/mod channel on", "allowed in this channel"),
    ("/mod nsfw on", "Age-restricted prompts are allowed"),
    ("/mod nsfw off", "Age-restricted prompts are refused"),
    ("/mod audio on", "accepted from everyone"),
    ("/mod status", "kill switch is off"),
    ("/mod blocklist add dragons", "Added \u201cdragons\u201d to this chat's blocklist"),
    ("/mod blocklist list", "This chat's blocklist is empty"),
    ("/mod blocklist remove dragons", "\u201cdragons\u201d is not on this chat's blocklist"),
    ("/mod queue", "No jobs waiting or running"),
    ("/mod cancel abcdef0123456789", "There is no job abcdef0123456789 in this chat"),
    ("/mod delete abcdef0123456789", "There is no result of job abcdef0123456789"),
    ("/mod audit 5", "Nothing logged here yet"),
    ("/mod avatars", "No selfies awaiting review"),
]
# Avatar decisions hold on the whole platform: the review chat's moderators (or configured ones) make them.
REVIEW_COMMANDS = [
    ("/mod avatar approve bob", "bob has no selfie awaiting review"),
    ("/mod avatar revoke bob", "bob has no verified avatar"),
]
OWNER_COMMANDS = [
    ("/mod kill on", "off everywhere"),
    ("/mod kill off", "back on everywhere"),
    ("/mod protected off", "protected-names list is off"),
    ("/mod protected on", "protected-names list applies"),
    ("/mod blocklist add global dragons", "Added \u201cdragons\u201d to the global blocklist"),
    ("/mod blocklist list global", "The global blocklist is empty"),
]


@pytest.mark.parametrize(("command", "answer"), MOD_COMMANDS + OWNER_COMMANDS + REVIEW_COMMANDS)
async def test_refused_for_members(rig: Rig, command: str, answer: str) -> None:
    member = person("mallory")
    out = await rig.service.handle(member, command, ctx=MEMBER_CTX)
    assert not out.ok and "Only this chat's moderators" in out.text
    [entry] = await rig.mod.audit.recent("web", "room1")
    assert (entry.kind, entry.user_id, entry.action) == ("refusal", "mallory", "not_moderator")
    # Nothing changed: the chat is neither paused nor blocklisted, nobody banned.
    assert await rig.mod.switches.chat("web", "room1") == set()
    assert await rig.mod.bans.active("web", "room1") == []


@pytest.mark.parametrize(("command", "answer"), MOD_COMMANDS)
async def test_allowed_for_moderators(rig: Rig, command: str, answer: str) -> None:
    out = await rig.service.handle(person("maud"), command, ctx=MOD_CTX)
    assert answer in out.text, out.text


@pytest.mark.parametrize(("command", "answer"), REVIEW_COMMANDS)
async def test_review_commands_in_the_review_chat(rig: Rig, command: str, answer: str) -> None:
    out = await rig.service.handle(person("maud"), command, ctx=MOD_CTX)
    assert not out.ok and "review chat" in out.text, out.text
    out = await rig.service.handle(person("rita", "review"), command, ctx=MOD_CTX)
    assert answer in out.text, out.text


@pytest.mark.parametrize(("command", "answer"), OWNER_COMMANDS)
async def test_owner_commands(rig: Rig, command: str, answer: str) -> None:
    out = await rig.service.handle(person("maud"), command, ctx=MOD_CTX)
    assert not out.ok and "Only the service owners" in out.text
    out = await rig.service.handle(person("owner"), command, ctx=MEMBER_CTX)  # owners moderate everywhere
    assert out.ok and answer in out.text, out.text


async def test_rights_do_not_carry_to_another_chat(rig: Rig) -> None:
    # The adapter says maud moderates room1; in room2 she is a member.
    assert (await rig.service.handle(person("maud", "room1"), "/mod pause", ctx=MOD_CTX)).ok
    out = await rig.service.handle(person("maud", "room2"), "/mod pause", ctx=MEMBER_CTX)
    assert not out.ok
    assert await rig.mod.switches.chat("web", "room2") == set()


async def test_configured_moderator_ids(rig: Rig) -> None:
    rig.service.settings.moderator_ids.append("web:carol")
    out = await rig.service.handle(person("carol"), "/mod pause", ctx=MEMBER_CTX)
    assert out.ok


async def test_state_changing_commands_take_effect_and_are_audited(rig: Rig) -> None:
    maud = person("maud")
    for cmd in ("/mod ban bob 1d", "/mod blocklist add dragons", "/mod pause", "/mod quota grant bob 3"):
        assert (await rig.service.handle(maud, cmd, ctx=MOD_CTX)).ok, cmd
    assert [b.user_id for b in await rig.mod.bans.active("web", "room1")] == ["bob"]
    assert await rig.mod.blocklists.entries("web", "room1") == ["dragons"]
    assert "paused" in await rig.mod.switches.chat("web", "room1")
    assert rig.quota.calls == [("grant", "web", "room1", "bob", 3)]
    actions = [e.action for e in await rig.mod.audit.recent("web", "room1")]
    assert actions == ["quota grant", "paused on", "blocklist add", "ban"]
    # The global stream has them too, with who and where.
    [latest] = await rig.mod.audit.recent(count=1)
    assert (latest.platform, latest.chat_id, latest.user_id) == ("web", "room1", "maud")
    audit = await rig.service.handle(maud, "/mod audit 2", ctx=MOD_CTX)
    assert "quota grant by maud" in audit.text and "ban" not in audit.text


async def test_usage_errors_explain(rig: Rig) -> None:
    maud = person("maud")
    for cmd, hint in [("/mod ban", "Name a user"), ("/mod quota set bob many", "not a valid number"),
                      ("/mod nsfw maybe", "Usage: /mod nsfw on|off"), ("/mod frobnicate", "Unknown /mod command"),
                      ("/mod blocklist add re:(", "does not compile"), ("/mod cancel ../x", "job id")]:
        out = await rig.service.handle(maud, cmd, ctx=MOD_CTX)
        assert not out.ok and hint in out.text, (cmd, out.text)


async def test_reply_to_member_names_them(rig: Rig) -> None:
    ctx = ChatContext(is_moderator=True, extra={"reply_user_id": "4242"}, is_member=everyone_is_a_member)
    out = await rig.service.handle(person("maud"), "/mod ban 30m", ctx=ctx)
    assert out.ok and "4242 banned for another 30m" in out.text
    out = await rig.service.handle(person("maud"), "/mod unban <@!4242>", ctx=MOD_CTX)
    assert out.ok


# Run in order in one playground chat (the playground has no quota module wired in).
PLAYGROUND_SEQUENCE = [
    ("/mod help", "Moderator commands"),
    ("/mod ban bob 2h spamming", "bob banned for another 2h (spamming)"),
    ("/mod bans", "bob banned for another 2h (spamming)"),
    ("/mod unban bob", "bob may generate again"),
    ("/mod quota usage bob", "this chat sets no limit for them"),  # a chat sees only its own limits
    ("/mod quota grant bob 5", "Granted 5 extra credits"),
    ("/mod quota set bob 50", "now has 50 credits"),
    ("/mod quota usage bob", "of 50 (+5 granted) left"),
    ("/mod pause", "paused in this chat"),
    ("/mod resume", "back on in this chat"),
    ("/mod channel off", "turned off in this channel"),
    ("/mod channel on", "allowed in this channel"),
    ("/mod nsfw on", "Age-restricted prompts are allowed"),
    ("/mod nsfw off", "Age-restricted prompts are refused"),
    ("/mod audio on", "accepted from everyone"),
    ("/mod status", "voice/audio references are allowed"),
    ("/mod blocklist add dragons", "Added \u201cdragons\u201d to this chat's blocklist"),
    ("/mod blocklist list", "dragons"),
    ("/mod blocklist remove dragons", "Removed \u201cdragons\u201d"),
    ("/mod queue", "No jobs waiting or running"),
    ("/mod cancel abcdef0123456789", "There is no job abcdef0123456789 in this chat"),
    ("/mod delete abcdef0123456789", "There is no result of job abcdef0123456789"),
    ("/mod audit 3", "blocklist remove by pg1"),
    ("/mod avatar approve bob", "Avatar decisions apply everywhere"),  # only in the review chat
    ("/mod avatars", "No selfies awaiting review"),
]


async def test_playground_moderates_its_own_chat(web_client: TestClient[Any, Any]) -> None:
    async def send(text: str) -> dict[str, Any]:
        resp = await web_client.post("/api/command", json={"chat": "pg1", "text": text})
        assert resp.status == 200
        return dict(await resp.json())

    for command, answer in PLAYGROUND_SEQUENCE:
        sent = await send(command)
        assert answer in sent["message"]["text"], (command, sent["message"]["text"])
    assert (await send("/mod pause"))["ok"]
    refused = await send("/imagine a red fox")
    assert not refused["ok"] and "paused" in refused["message"]["text"]
