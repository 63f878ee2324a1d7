"""The fast labelling path embeds what the previous implementation did (tests/labelling/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.labelling import watermark as wm
from core.labelling.badge import BadgeStyle, badge_frames, draw_badge
from tests.labelling import reference
from tests.labelling.images import picture


def _cases() -> dict[str, Image.Image]:
    rs = np.random.RandomState(7)
    return {
        "picture 512": picture(1, (512, 512)),
        "picture 768x432": picture(2, (768, 432)),
        "odd sides": picture(3, (301, 517)),
        "noise": Image.fromarray((rs.rand(320, 320, 3) * 255).astype(np.uint8)),
        "black corners": picture(4).rotate(20),
        "flat white": Image.new("RGB", (300, 260), (255, 255, 255)),
        "flat grey": Image.new("RGB", (260, 300), (128, 128, 128)),
    }


@pytest.mark.parametrize("name", list(_cases()))
@pytest.mark.parametrize("scale", [48.0, 64.0])
def test_fast_embed_matches_the_previous_implementation(name: str, scale: float) -> None:
    img = _cases()[name]
    params = wm.WatermarkParams(scale=scale)
    payload = wm.payload_for(name)
    before, after = reference.embed(img, payload, params), wm.embed(img, payload, params)
    diff = np.abs(np.asarray(before, dtype=int) - np.asarray(after, dtype=int))
    # Equal but for rounding: a pixel change of exactly x.5 (flat areas) may round the other way.
    assert diff.max() <= 1
    assert np.asarray(before).shape == np.asarray(after).shape
    old, new = wm.decode_at(before), wm.decode_at(after)
    assert old is not None and new is not None and (old.payload, old.valid) == (new.payload, new.valid)
    if diff.max() == 0:
        assert old == new
        return
    assert name.startswith("flat")  # only exact ties differ; textured pictures come out bit for bit


def test_frames_marked_together_equal_frames_marked_one_by_one() -> None:
    # 30 frames of 400x272 make several batches (marked on threads), plus other sizes and a tiny one.
    frames = [picture(10 + i, (400, 272)) for i in range(30)] + [picture(20, (256, 256)), picture(21, (64, 64))]
    assert 30 * 400 * 272 > 2 * wm.FRAME_BATCH_PIXELS
    params = wm.WatermarkParams(scale=64)
    together = wm.embed_frames(frames, 99, params)
    assert together[-1] is frames[-1]  # too small to carry a mark: left alone
    for one, frame in zip(together, frames, strict=True):
        assert np.array_equal(np.asarray(one), np.asarray(wm.embed(frame, 99, params)))


def test_u_channel_still_embeds_and_decodes() -> None:
    params = wm.WatermarkParams(channel=1, scale=36)
    img = picture(5, (320, 320))
    marked = wm.embed(img, 1234, params)
    assert np.abs(np.asarray(marked, dtype=int) - np.asarray(reference.embed(img, 1234, params), dtype=int)).max() <= 1
    assert wm.matches(wm.decode_at(marked, params), 1234)


@pytest.mark.parametrize("corner", ["bottom-right", "top-left"])
@pytest.mark.parametrize("size", [(400, 300), (64, 40), (1024, 1024)])
def test_badge_over_its_box_equals_the_full_frame_overlay(corner: str, size: tuple[int, int]) -> None:
    style = BadgeStyle(text="AI \u00b7 Reelsmith", corner=corner)  # type: ignore[arg-type]
    img = picture(6, size)
    assert np.array_equal(np.asarray(draw_badge(img, style)), np.asarray(reference.draw_badge(img, style)))
    frames = [img, picture(7, size)]
    for got, frame in zip(badge_frames(frames, style), frames, strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(reference.draw_badge(frame, style)))


@pytest.mark.parametrize("scale", [48.0, 64.0])
def test_flat_frames_at_every_grey_decode_as_well_as_before(scale: float) -> None:
    """A flat block whose singular value is an exact multiple of the step sits on the quantiser's edge: the
    previous transform's float noise (DCT, LAPACK) and ours may floor it to neighbouring steps, which carry
    the same bit. So pixels may differ there, but the mark reads the same (or, near white, where the old
    one clipped away, better)."""
    params = wm.WatermarkParams(scale=scale)
    edges = 0
    for grey in range(0, 256, 3):
        img = Image.new("RGB", (256, 256), (grey, grey, grey))
        before, after = reference.embed(img, 77, params), wm.embed(img, 77, params)
        old, new = wm.decode_at(before, params), wm.decode_at(after, params)
        assert old is not None and new is not None
        assert (new.payload, new.valid) == (old.payload, old.valid) or wm.matches(new, 77), grey
        diff = np.abs(np.asarray(before, dtype=int) - np.asarray(after, dtype=int)).max()
        edges += diff > 1
        assert diff <= 1 or diff == round(scale / 8), grey  # one quantiser step, spread over an 8x8 block
    assert edges < 10


def test_a_clips_frames_are_badged_in_place_once_and_an_image_is_copied() -> None:
    from core.labelling.steps import badge_step, badge_style
    from core.settings import Settings
    from core.types import GenerationRequest, JobKind, Requester

    s = Settings(_env_file=None)
    style, step = badge_style(s), badge_step(s)
    who = Requester(platform="web", user_id="u", chat_id="c")
    size = (320, 180)
    originals = [picture(8, size), picture(9, size)]
    expected = [np.asarray(reference.draw_badge(f, style)) for f in originals]
    # A clip's frames are the job's own: the step draws on them (a frame listed twice gets the badge once).
    frames = [f.copy() for f in originals]
    clip = GenerationRequest(requester=who, kind=JobKind.VIDEO, prompt="p", width=320, height=180, num_frames=3,
                             seed=1, steps=1)
    out = step(clip, [frames[0], frames[1], frames[0]])
    assert [id(f) for f in out] == [id(frames[0]), id(frames[1]), id(frames[0])]
    for got, want in zip(out, [expected[0], expected[1], expected[0]], strict=True):
        assert np.array_equal(np.asarray(got), want)
    # An image may be shared (a reference passed through): it gets a badged copy and stays as it was.
    image = originals[0].copy()
    still = GenerationRequest(requester=who, kind=JobKind.IMAGE, prompt="p", width=320, height=180,
                              seed=1, steps=1)
    (badged,) = step(still, [image])
    assert badged is not image and np.array_equal(np.asarray(badged), expected[0])
    assert np.array_equal(np.asarray(image), np.asarray(originals[0]))
