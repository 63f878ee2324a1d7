"""Consent bound to the person: every face in a reference must be the requester's (their approved avatar) or that
of a member who granted them their likeness; late frames, turned and small faces count too."""

from __future__ import annotations

import io

from PIL import Image

from core.media.codecs import encode_gif, encode_mp4
from core.moderation.identity import SAME_PERSON, distance, find_faces
from core.quotas.book import QuotaBook
from core.service import Attachment
from core.service.facade import Reelsmith
from tests.moderation.conftest import DATA, MEMBER_CTX, MOD_CTX, Rig, person

FACE = (DATA / "face.jpg").read_bytes()  # bob's selfie
FRIEND = (DATA / "friend.jpg").read_bytes()  # alice's
STRANGER = (DATA / "stranger.jpg").read_bytes()  # nobody's avatar
NO_FACE = (DATA / "no_face.jpg").read_bytes()


def _img(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _square(img: Image.Image, side: int = 224) -> Image.Image:
    canvas = Image.new("RGB", (side, side), (30, 30, 30))
    img = img.copy()
    img.thumbnail((side, side))
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return canvas


async def _verify(service: Reelsmith, user: str, selfie: bytes, chat: str = "room1") -> None:
    out = await service.handle(person(user, chat), "/avatar", [Attachment(selfie, "selfie.jpg")], MEMBER_CTX)
    assert out.ok, out.text
    out = await service.handle(person("maud", "review"), f"/mod avatar approve {user}", ctx=MOD_CTX)
    assert out.ok, out.text


async def _edit(service: Reelsmith, user: str, data: bytes, name: str = "ref.jpg") -> tuple[bool, str]:
    out = await service.handle(person(user), "/edit make it a painting", [Attachment(data, name)], MEMBER_CTX)
    return out.ok, out.text


def test_embeddings_tell_people_apart() -> None:
    [me] = find_faces(_img(FACE))
    [mirrored] = find_faces(_img(FACE).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    [friend] = find_faces(_img(FRIEND))
    [stranger] = find_faces(_img(STRANGER))
    assert distance(me.embedding, mirrored.embedding) < SAME_PERSON
    for a, b in ((me, friend), (me, stranger), (friend, stranger)):
        assert distance(a.embedding, b.embedding) > SAME_PERSON
    assert find_faces(_img(NO_FACE)) == []


def test_turned_and_small_faces_are_found() -> None:
    me = _img(FACE)
    for turn in (90, 180, 270):
        [face] = find_faces(me.rotate(turn, expand=True))
        assert face.rotation == (360 - turn) % 360
    # The face is about 20% of the selfie's side: shrunk into a large frame it is ~6% of the short side.
    canvas = Image.new("RGB", (1200, 900), (90, 110, 90))
    canvas.paste(me.resize((270, 270)), (500, 300))
    assert len(find_faces(canvas)) == 1
    assert find_faces(canvas, min_fraction=0.125) == []  # only the fine search finds it


async def test_only_the_requesters_face(rig: Rig) -> None:
    await _verify(rig.service, "bob", FACE)
    ok, text = await _edit(rig.service, "bob", FACE, "me.jpg")
    assert ok, text
    ok, text = await _edit(rig.service, "bob", STRANGER, "them.jpg")
    assert not ok and "reference 1 (them.jpg) is not yours" in text and "/consent grant bob" in text
    [entry, *_] = await rig.mod.audit.recent("web", "room1")
    assert (entry.kind, entry.action, entry.user_id) == ("refusal", "likeness", "bob")


async def test_friend_consent_and_revocation(rig: Rig) -> None:
    service = rig.service
    await _verify(service, "bob", FACE)
    await _verify(service, "alice", FRIEND)
    ok, text = await _edit(service, "bob", FRIEND)
    assert not ok and "not yours" in text
    out = await service.handle(person("alice"), "/consent grant bob", ctx=MEMBER_CTX)
    assert out.ok and "bob may now use" in out.text
    assert (await _edit(service, "bob", FRIEND))[0]
    # A grant covers the granter's face only: a stranger's is still refused.
    assert not (await _edit(service, "bob", STRANGER))[0]
    out = await service.handle(person("bob"), "/consent list", ctx=MEMBER_CTX)
    assert "whose likeness you may use: alice" in out.text
    out = await service.handle(person("alice"), "/consent revoke bob", ctx=MEMBER_CTX)
    assert out.ok and "no longer" in out.text
    ok, text = await _edit(service, "bob", FRIEND)
    assert not ok and "not yours" in text
    out = await service.handle(person("alice"), "/consent revoke bob", ctx=MEMBER_CTX)
    assert not out.ok


async def test_granted_face_without_own_avatar(rig: Rig) -> None:
    """A member without an avatar may use a granter's face, and no other."""
    await _verify(rig.service, "alice", FRIEND)
    await rig.service.handle(person("alice"), "/consent grant carol", ctx=MEMBER_CTX)
    assert (await _edit(rig.service, "carol", FRIEND))[0]
    ok, text = await _edit(rig.service, "carol", FACE)
    assert not ok and "shows a face" in text and "/avatar" in text


async def test_late_frames_and_turned_faces_are_checked(rig: Rig) -> None:
    await _verify(rig.service, "bob", FACE)
    black = Image.new("RGB", (224, 224))
    stranger = _square(_img(STRANGER))
    clip = encode_mp4([black] * 7 + [stranger] * 2, 8)
    out = await rig.service.handle(person("bob"), "/animate make it move", [Attachment(clip, "clip.mp4")],
                                   MEMBER_CTX)
    assert not out.ok and "not yours" in out.text
    gif = encode_gif([black, black, black, stranger], 4)
    ok, text = await _edit(rig.service, "bob", gif, "loop.gif")
    assert not ok and "loop.gif" in text
    ok, text = await _edit(rig.service, "bob", _jpeg(stranger.rotate(90)), "sideways.jpg")
    assert not ok and "sideways.jpg" in text
    # Bob's own face late in a clip is his.
    mine = encode_mp4([black] * 7 + [_square(_img(FACE))] * 2, 8)
    out = await rig.service.handle(person("bob"), "/animate make it move", [Attachment(mine, "me.mp4")],
                                   MEMBER_CTX)
    assert out.ok, out.text


async def test_refusal_charges_nothing(service: Reelsmith) -> None:
    book = QuotaBook(service.redis, service.settings)
    ok, text = await _edit(service, "bob", STRANGER)
    assert not ok and "shows a face" in text
    usage = await book.usage("web", "bob")
    assert (usage.used, usage.in_flight) == (0, 0)
    assert await service.queue.depth() == 0
    assert (await _edit(service, "bob", NO_FACE))[0]
    usage = await book.usage("web", "bob")
    assert usage.used + usage.in_flight > 0


def test_colour_noise_is_not_a_face() -> None:
    """The tiny models draw colour noise; dlib's detector alone took about one in thirty such pictures for a
    face, which refused Animate and Variations of harmless results. Both detectors must agree now."""
    import numpy as np
    from PIL import Image

    from core.moderation.identity import find_faces

    rng = np.random.default_rng(0)
    found = []
    for i in range(40):
        blocks = Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).resize((128, 128))
        grain = rng.integers(-20, 20, (128, 128, 3))
        picture = Image.fromarray(np.clip(np.asarray(blocks).astype(int) + grain, 0, 255).astype(np.uint8))
        if find_faces(picture):
            found.append(i)
    assert found == []
