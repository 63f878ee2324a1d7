"""Likeness and voice consent: faces in references need a verified avatar (/avatar + a moderator's approval)."""

from __future__ import annotations

import io
import struct

from PIL import Image

from core.context import ChatContext
from core.media.codecs import encode_mp4
from core.moderation import Moderation, moderation_feature
from core.moderation.faces import count_faces
from core.queue.connection import connect
from core.queue.replies import ReplyConsumer
from core.service import Attachment, button_data, parse_button_data
from core.service.facade import Reelsmith
from core.settings import Settings
from core.types import Notice
from tests.moderation.conftest import DATA, MEMBER_CTX, MOD_CTX, FakeClock, FakeQuota, Rig, person

FACE = (DATA / "face.jpg").read_bytes()
NO_FACE = (DATA / "no_face.jpg").read_bytes()


def _wav() -> bytes:
    """A 0.1 s silent 8 kHz mono WAV (a stand-in voice note)."""
    samples = b"\x00\x00" * 800
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


async def _notices(rig: Rig) -> list[Notice]:
    raw = await rig.service.redis.xrange(rig.service.settings.key("replies", "web"))
    return [ReplyConsumer._decode(i, f).notice for i, f in raw if f[b"type"] == b"notice"]  # type: ignore[misc]


def test_face_detection_on_shipped_images() -> None:
    assert count_faces(Image.open(io.BytesIO(FACE))) == 1
    assert count_faces(Image.open(io.BytesIO(NO_FACE))) == 0
    assert count_faces(Image.new("RGB", (300, 200), (40, 120, 200))) == 0


async def test_face_reference_needs_verified_avatar(rig: Rig) -> None:
    bob = person("bob")
    out = await rig.service.handle(bob, "/edit make it a painting", [Attachment(FACE, "me.jpg")], MEMBER_CTX)
    assert not out.ok and "shows a face" in out.text and "/avatar" in out.text
    out = await rig.service.handle(bob, "/edit make it a painting", [Attachment(NO_FACE, "cup.jpg")], MEMBER_CTX)
    assert out.ok, out.text
    frames = [Image.open(io.BytesIO(FACE)).convert("RGB").resize((224, 224))] * 4
    video = Attachment(encode_mp4(frames, 8), "clip.mp4")
    out = await rig.service.handle(bob, "/animate make it move", [video], MEMBER_CTX)
    assert not out.ok and "shows a face" in out.text
    [entry, *_] = await rig.mod.audit.recent("web", "room1")
    assert (entry.kind, entry.action, entry.user_id) == ("refusal", "likeness", "bob")
    assert await rig.service.queue.depth() == 1


async def test_avatar_flow_through_review_chat(rig: Rig) -> None:
    bob = person("bob")
    out = await rig.service.handle(bob, "/avatar", [Attachment(NO_FACE, "cup.jpg")], MEMBER_CTX)
    assert not out.ok and "couldn't find a face" in out.text
    out = await rig.service.handle(bob, "/avatar", [], MEMBER_CTX)
    assert not out.ok and "one selfie attached" in out.text
    out = await rig.service.handle(bob, "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
    assert out.ok and "A moderator will check" in out.text
    again = await rig.service.handle(bob, "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
    assert again.ok and "already waiting" in again.text  # one notice per pending selfie, no review-chat spam

    [notice] = await _notices(rig)
    assert notice.chat_id == "review" and "Avatar request from Bob (bob)" in notice.text
    assert notice.media and notice.media[0].mime == "image/jpeg"
    approve = next(b.data for b in notice.buttons if b.label == "Approve")
    assert parse_button_data(approve) == ("mava", notice.ref)

    # A member of the review chat, or a moderator elsewhere, cannot approve.
    out = await rig.service.action(person("eve", "review"), MEMBER_CTX, approve)
    assert not out.ok and "Only moderators in the review chat" in out.text
    out = await rig.service.action(person("maud", "room1"), MOD_CTX, approve)
    assert not out.ok
    assert not await rig.mod.avatars.verified("web", "bob")

    out = await rig.service.action(person("rita", "review"), ChatContext(is_moderator=True), approve)
    assert out.ok and "approved" in out.text
    assert await rig.mod.avatars.verified("web", "bob")
    out = await rig.service.action(person("rita", "review"), ChatContext(is_moderator=True), approve)
    assert not out.ok and "already decided" in out.text
    # The selfie itself is not kept once decided.
    assert await rig.service.media(notice.media[0].blob_key) is None

    out = await rig.service.handle(bob, "/edit make it a painting", [Attachment(FACE, "me.jpg")], MEMBER_CTX)
    assert out.ok, out.text
    actions = [(e.kind, e.action) for e in await rig.mod.audit.recent("web", "review")]
    assert ("action", "avatar approved") in actions and ("refusal", "not_moderator") in actions


async def test_moderator_approves_in_chat(rig: Rig) -> None:
    await rig.service.handle(person("bob"), "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
    out = await rig.service.handle(person("maud"), "/mod avatars", ctx=MOD_CTX)
    assert "bob" in out.text
    # Decided by a moderator of the review chat (a verified avatar holds in every chat).
    out = await rig.service.handle(person("maud", "review"), "/mod avatar reject bob", ctx=MOD_CTX)
    assert out.ok and "rejected" in out.text
    assert not await rig.mod.avatars.verified("web", "bob")


async def test_voice_reference_consent(rig: Rig) -> None:
    bob = person("bob")
    voice = [Attachment(_wav(), "note.wav")]
    out = await rig.service.handle(bob, "/video a singer", voice, MEMBER_CTX)
    assert not out.ok and "Voice and audio references" in out.text
    await rig.service.handle(person("maud"), "/mod audio on", ctx=MOD_CTX)
    assert (await rig.service.handle(bob, "/video a singer", voice, MEMBER_CTX)).ok
    await rig.service.handle(person("maud"), "/mod audio off", ctx=MOD_CTX)
    await rig.service.handle(bob, "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
    await rig.service.handle(person("maud", "review"), "/mod avatar approve bob", ctx=MOD_CTX)
    assert (await rig.service.handle(bob, "/video a singer", voice, MEMBER_CTX)).ok


def test_button_payloads_fit() -> None:
    for action in ("mava", "mrej", "mdel", "mban", "mdis"):
        data = button_data(action, "0123456789abcdef")
        assert parse_button_data(data) == (action, "0123456789abcdef") and len(data.encode()) <= 64


async def test_review_channel_inside_a_server(rig: Rig) -> None:
    """On Discord the review chat is a channel: a moderator pressing there (chat = the server) may decide."""
    rig.service.settings.discord_review_channel_id = "555"
    bob = person("bob", "guild1", "discord")
    await rig.service.handle(bob, "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
    raw = await rig.service.redis.xrange(rig.service.settings.key("replies", "discord"))
    [notice] = [ReplyConsumer._decode(i, f).notice for i, f in raw]
    assert notice is not None and notice.chat_id == "555"
    reject = next(b.data for b in notice.buttons if b.label == "Reject")
    elsewhere = await rig.service.action(person("rita", "guild1", "discord"),
                                         ChatContext(is_moderator=True, channel_id="general"), reject)
    assert not elsewhere.ok
    out = await rig.service.action(person("rita", "guild1", "discord"),
                                   ChatContext(is_moderator=True, channel_id="555"), reject)
    assert out.ok and "rejected" in out.text


async def test_review_notices_come_in_the_review_language(mod_settings: Settings) -> None:
    """`REELSMITH_REVIEW_LANGUAGE`: the review chat's notice and its buttons in that language; the button still
    works, and the member who asked is answered in their own."""
    settings = mod_settings.model_copy(update={"review_language": "de"})
    redis = await connect(settings)
    try:
        mod = Moderation.build(settings, redis, quota=FakeQuota(), clock=FakeClock())
        rig = Rig(Reelsmith(settings, redis, [moderation_feature(mod)]), mod, FakeClock(), FakeQuota(), [])
        bob = person("bob").model_copy(update={"locale": "ja"})
        out = await rig.service.handle(bob, "/avatar", [Attachment(FACE, "selfie.jpg")], MEMBER_CTX)
        assert out.ok and "A moderator will check" not in out.text, out.text  # Bob reads Japanese
        [notice] = await _notices(rig)
        assert "Avatar-Anfrage von Bob (bob)" in notice.text, notice.text
        labels = {b.label: b.data for b in notice.buttons}
        assert set(labels) == {"Freigeben", "Ablehnen"}, labels
        out = await rig.service.action(person("rita", "review"), ChatContext(is_moderator=True), labels["Freigeben"])
        assert out.ok, out.text
        assert await rig.mod.avatars.verified("web", "bob")
    finally:
        await redis.aclose()
