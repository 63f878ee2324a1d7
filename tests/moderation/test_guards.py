"""Guards before the queue: bans (with expiry), switches, blocklists, NSFW. Refusals queue nothing and are audited."""

from __future__ import annotations

from core.context import ChatContext
from core.contract import GuardSpec
from tests.moderation.conftest import MEMBER_CTX, MOD_CTX, Rig, person


async def _depth(rig: Rig) -> int:
    return await rig.service.queue.depth()


async def test_ban_with_expiry(rig: Rig) -> None:
    maud, bob = person("maud"), person("bob")
    assert (await rig.service.handle(maud, "/mod ban bob 2h being rude", ctx=MOD_CTX)).ok
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert not out.ok and "banned from generating in this chat for another 2h" in out.text
    assert "being rude" in out.text and await _depth(rig) == 0
    # Only in this chat.
    assert (await rig.service.handle(person("bob", "room2"), "/imagine a fox", ctx=MEMBER_CTX)).ok
    rig.clock.now += 3600
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert not out.ok and "for another 1h" in out.text
    rig.clock.now += 3601
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert out.ok, out.text
    assert await rig.mod.bans.active("web", "room1") == []
    refusals = [e for e in await rig.mod.audit.recent("web", "room1") if e.kind == "refusal"]
    assert [e.action for e in refusals] == ["banned", "banned"] and refusals[0].user_id == "bob"


async def test_permanent_ban_and_unban(rig: Rig) -> None:
    assert (await rig.service.handle(person("maud"), "/mod ban bob", ctx=MOD_CTX)).ok
    rig.clock.now += 10 * 365 * 86400
    out = await rig.service.handle(person("bob"), "/video a fox", ctx=MEMBER_CTX)
    assert not out.ok and "until a moderator lifts it" in out.text
    assert (await rig.service.handle(person("maud"), "/mod unban bob", ctx=MOD_CTX)).ok
    assert (await rig.service.handle(person("bob"), "/video a fox", ctx=MEMBER_CTX)).ok


async def test_pause_kill_and_channel(rig: Rig) -> None:
    bob, maud = person("bob"), person("maud")
    await rig.service.handle(maud, "/mod pause", ctx=MOD_CTX)
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert not out.ok and "paused in this chat" in out.text
    await rig.service.handle(maud, "/mod resume", ctx=MOD_CTX)

    await rig.service.handle(maud, "/mod channel off", ctx=MOD_CTX)
    out = await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)
    assert not out.ok and "turned off in this channel" in out.text
    other_channel = ChatContext(channel_id="art")
    assert (await rig.service.handle(bob, "/imagine a fox", ctx=other_channel)).ok
    await rig.service.handle(maud, "/mod channel on", ctx=MOD_CTX)

    await rig.service.handle(person("owner", "anywhere"), "/mod kill on", ctx=MEMBER_CTX)
    out = await rig.service.handle(person("zed", "room9"), "/imagine a fox")
    assert not out.ok and "switched off everywhere" in out.text
    await rig.service.handle(person("owner", "anywhere"), "/mod kill off", ctx=MEMBER_CTX)
    assert (await rig.service.handle(bob, "/imagine a fox", ctx=MEMBER_CTX)).ok
    assert await _depth(rig) == 2


async def test_blocklists(rig: Rig) -> None:
    bob, maud, owner = person("bob"), person("maud"), person("owner")
    out = await rig.service.handle(bob, "/imagine T0m  Cru1se riding a horse", ctx=MEMBER_CTX)
    assert not out.ok and "tom cruise" in out.text and "public figure" in out.text
    await rig.service.handle(maud, "/mod blocklist add dragon", ctx=MOD_CTX)
    await rig.service.handle(maud, r"/mod blocklist add re:\bblood\w*", ctx=MOD_CTX)
    out = await rig.service.handle(bob, "/imagine a D R A G O N", ctx=MEMBER_CTX)
    assert not out.ok and "\u201cdragon\u201d, which is on this chat's blocklist" in out.text
    out = await rig.service.handle(bob, "/imagine bloody knees", ctx=MEMBER_CTX)
    assert not out.ok and "a blocked pattern" in out.text
    # Other chats are not affected by this chat's list...
    assert (await rig.service.handle(person("bob", "room2"), "/imagine a dragon")).ok
    # ...but are by the global one.
    await rig.service.handle(owner, "/mod blocklist add global unicorn", ctx=MEMBER_CTX)
    out = await rig.service.handle(person("bob", "room2"), "/imagine a un1corn")
    assert not out.ok and "the service's blocklist" in out.text
    # Only an owner turns the protected list off for a chat.
    await rig.service.handle(owner, "/mod protected off", ctx=MEMBER_CTX)
    assert (await rig.service.handle(bob, "/imagine Tom Cruise", ctx=MEMBER_CTX)).ok
    assert (await rig.service.handle(person("bob", "room2"), "/imagine Tom Cruise")).ok is False
    assert await _depth(rig) == 2
    reasons = {e.action for e in await rig.mod.audit.recent("web", "room1") if e.kind == "refusal"}
    assert reasons == {"blocklist"}


async def test_nsfw_needs_switch_and_platform_gate(rig: Rig) -> None:
    bob, maud = person("bob"), person("maud")
    gated = ChatContext(channel_id="after-dark", nsfw_allowed=True)
    out = await rig.service.handle(bob, "/imagine a nude figure study", ctx=gated)
    assert not out.ok and "Age-restricted content isn't allowed" in out.text
    await rig.service.handle(maud, "/mod nsfw on", ctx=ChatContext(is_moderator=True, channel_id="after-dark",
                                                                   nsfw_allowed=True))
    out = await rig.service.handle(bob, "/imagine a nude figure study", ctx=gated)
    assert out.ok and out.job_id
    queued = await rig.service.queue.load_request(out.job_id)
    assert queued is not None and queued.nsfw_allowed
    # Same channel switch, but the platform doesn't mark it age-restricted: refused.
    out = await rig.service.handle(bob, "/imagine a nude figure study", ctx=ChatContext(channel_id="after-dark"))
    assert not out.ok and "Age-restricted" in out.text
    assert (await rig.service.handle(bob, "/imagine a nudibranch", ctx=MEMBER_CTX)).ok


async def test_moderation_guards_run_first(rig: Rig) -> None:
    taken: list[str] = []

    class Quota:
        async def check(self, request: object, ctx: object) -> None:
            taken.append("credit")

        async def undo(self, request: object) -> None:
            taken.remove("credit")

    rig.service.guards.append(GuardSpec(Quota(), order=1000))
    await rig.service.handle(person("maud"), "/mod ban bob", ctx=MOD_CTX)
    assert not (await rig.service.handle(person("bob"), "/imagine a fox")).ok
    assert taken == []  # the ban refused before the quota guard took anything
    assert (await rig.service.handle(person("al"), "/imagine a fox")).ok and taken == ["credit"]
