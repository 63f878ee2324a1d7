"""@-references, reference limits and /meme parsing in the shared grammar."""

from __future__ import annotations

import pytest

from core.service import Attachment, primary_first
from core.service.facade import Reelsmith
from core.service.grammar import (
    CommandError,
    check_reference_limits,
    check_references,
    model_prompt,
    named_references,
    parse_command,
    resolve_meme,
)
from core.types import JobKind, MediaRef, MediaType
from tests.media.helpers import png, wav


def test_named_references_in_order() -> None:
    assert named_references("put @image2 in @video1 with @AUDIO1 and @image1") == [
        ("image", 2), ("video", 1), ("audio", 1), ("image", 1)]
    # Not a reference: inside an address, or followed by more word characters.
    assert named_references("mail fox@image1.com about @image1x") == []


def test_model_prompt_spells_references_out() -> None:
    assert model_prompt("the cat from @image2 dancing to @audio1") == "the cat from image 2 dancing to audio 1"


def test_unknown_reference_names_what_was_attached() -> None:
    check_references("@image1 and @image2", {"image": 2, "video": 0, "audio": 0})
    with pytest.raises(CommandError) as err:
        check_references("blend @image1 with @image3", {"image": 2, "video": 0, "audio": 1})
    assert "@image3 is not attached" in err.value.message
    assert "2 images" in err.value.message and "1 audio" in err.value.message
    assert "@image1 @image2 @audio1" in err.value.message
    with pytest.raises(CommandError) as err:
        check_references("restyle @video1", {"image": 0, "video": 0, "audio": 0})
    assert "@video1 is not attached" in err.value.message and "nothing" in err.value.message


def test_limits() -> None:
    limits = {"image": 9, "video": 3, "audio": 3}
    check_reference_limits({"image": 9, "video": 3, "audio": 3}, limits)
    with pytest.raises(CommandError, match="10 image files; a request takes at most 9"):
        check_reference_limits({"image": 10, "video": 0, "audio": 0}, limits)
    with pytest.raises(CommandError, match="4 audio files"):
        check_reference_limits({"image": 0, "video": 0, "audio": 4}, limits)


def test_new_flags() -> None:
    p = parse_command("/video a fox --fit-audio dancing --format gif")
    assert p.fit_audio and p.output_format == "gif" and p.prompt == "a fox dancing"
    with pytest.raises(CommandError, match="only works with /video"):
        parse_command("/imagine a fox --fit-audio")
    with pytest.raises(CommandError, match="gif or mp4"):
        parse_command("/video a fox --format avi")
    with pytest.raises(CommandError, match="only works with /meme"):
        parse_command("/imagine a fox --top hello")
    with pytest.raises(CommandError, match="drop --frames"):
        parse_command("/video a fox --fit-audio --frames 9")


def test_meme_grammar() -> None:
    p = parse_command("/meme a cat at a desk | monday | again")
    assert p.kind == JobKind.MEME and p.meme_parts == ("a cat at a desk", "monday", "again")
    made = resolve_meme(p, has_media=False)
    assert (made.kind, made.prompt, made.top_text, made.bottom_text) == (JobKind.IMAGE, "a cat at a desk",
                                                                         "monday", "again")
    on_photo = resolve_meme(parse_command("/meme when it works | on the first try"), has_media=True)
    assert (on_photo.kind, on_photo.top_text, on_photo.bottom_text) == (JobKind.MEME, "when it works",
                                                                        "on the first try")
    edited = resolve_meme(parse_command("/meme make it snow | top | bottom"), has_media=True)
    assert edited.kind == JobKind.EDIT and edited.prompt == "make it snow"
    flags = resolve_meme(parse_command("/meme a dog --top much wow --bottom such meme"), has_media=False)
    assert (flags.prompt, flags.top_text, flags.bottom_text) == ("a dog", "much wow", "such meme")
    only_top = resolve_meme(parse_command("/meme --bottom just the bottom"), has_media=True)
    assert only_top.kind == JobKind.MEME and only_top.bottom_text == "just the bottom" and not only_top.top_text
    with pytest.raises(CommandError, match="needs text"):
        parse_command("/meme")
    with pytest.raises(CommandError, match="at most three parts"):
        parse_command("/meme a | b | c | d")
    with pytest.raises(CommandError, match="needs a picture"):
        resolve_meme(parse_command("/meme --top hello"), has_media=False)


def _ref(kind: MediaType, name: str) -> MediaRef:
    return MediaRef(blob_key=name, mime="x/y", media_type=kind, name=name)


def test_named_reference_drives() -> None:
    refs = [_ref(MediaType.IMAGE, "i1"), _ref(MediaType.IMAGE, "i2"), _ref(MediaType.AUDIO, "a1"),
            _ref(MediaType.IMAGE, "i3")]
    ordered = primary_first(refs, "animate @image3 then @image1")
    assert [r.name for r in ordered if r.media_type == MediaType.IMAGE] == ["i3", "i1", "i2"]
    assert [r.name for r in primary_first(refs, "no names")] == ["i1", "i2", "i3", "a1"]


async def test_service_refuses_before_storing(service: Reelsmith) -> None:
    """Limits, unknown references and misplaced audio are answered without storing or queueing anything."""
    from core.types import Requester

    who = Requester(platform="web", user_id="u", chat_id="c")
    service.settings.max_image_refs = 2
    cases = [
        ("/imagine a fox", [png()] * 3, "3 image files; a request takes at most 2"),
        ("/video @image2 running", [png()], "@image2 is not attached"),
        ("/imagine a fox", [png(), wav(0.5)], "An audio file goes with a video"),
        ("/video a fox --fit-audio", [png()], "--fit-audio needs an audio file"),
        ("/video a fox --format gif", [wav(0.5)], "GIFs have no sound"),
    ]
    for text, files, expected in cases:
        out = await service.submit(who, text, [Attachment(d, f"f{i}") for i, d in enumerate(files)])
        assert not out.ok and expected in out.text, (text, out.text)
    assert await service.queue.depth() == 0
    assert not [k async for k in service.redis.scan_iter(match=service.settings.key("blob", "*"))]


async def test_fit_audio_longer_than_the_limit_is_capped_and_said(service: Reelsmith) -> None:
    from core.context import ChatContext
    from core.types import Requester

    who = Requester(platform="web", user_id="u", chat_id="c")
    assert (await service.handle(who, "/mod audio on", ctx=ChatContext(is_moderator=True))).ok  # voice consent
    service.settings.max_frames = 49  # 2 s at 24 fps
    out = await service.submit(who, "/video waves --fit-audio", [Attachment(wav(3.0), "song.wav")])
    assert out.ok and out.request is not None, out.text
    assert out.request.num_frames == 49 and out.request.fit_audio
    assert any("the clip stops at 2.0 s" in n for n in out.request.notes)
    short = await service.submit(who, "/video waves --fit-audio", [Attachment(wav(0.5), "beep.wav")])
    assert short.request is not None and short.request.num_frames == 9 and not short.request.notes
