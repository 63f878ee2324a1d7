"""/verify's readers on media made without a worker: XMP in WebP/JPEG, labelled videos, edits."""

from __future__ import annotations

import io

from PIL import Image

from core.labelling.metadata import COMPOSITE_SOURCE_TYPE, mp4_metadata, xmp_packet
from core.labelling.steps import badge_step, watermark_step
from core.labelling.verify import image_xmp, inspect, metadata_from_xmp
from core.labelling.watermark import matches, payload_for
from core.media.codecs import encode_mp4, encode_webp
from core.settings import Settings
from core.types import GenerationRequest, JobKind, Requester
from tests.labelling.images import picture


def _request(kind: JobKind, size: int = 256, frames: int = 1) -> GenerationRequest:
    return GenerationRequest(requester=Requester(platform="web", user_id="u", chat_id="c"), kind=kind,
                             prompt="p", width=size, height=size, seed=1, steps=1, num_frames=frames, fps=8)


def test_xmp_is_read_from_webp_and_jpeg() -> None:
    xmp = xmp_packet(kind=JobKind.EDIT, producer="Reelsmith", job_id="j1", model="m")
    webp = encode_webp(picture(1), xmp)
    jpeg = io.BytesIO()
    picture(1).save(jpeg, format="JPEG", xmp=xmp)
    for data in (webp, jpeg.getvalue()):
        meta = metadata_from_xmp(image_xmp(Image.open(io.BytesIO(data))))
        assert meta is not None and meta.job_id == "j1" and meta.source_type == COMPOSITE_SOURCE_TYPE
        assert meta.ai_generated  # an edit of a member's photo is AI-generated too


def test_labelled_video_with_card_is_detected_by_watermark_and_tags() -> None:
    settings = Settings(_env_file=None, video_label_card_s=0.25)
    request = _request(JobKind.VIDEO, frames=6)
    base = picture(30)
    frames = [base.rotate(i, resample=Image.Resampling.BILINEAR) for i in range(6)]
    for step in (badge_step(settings), watermark_step(settings)):
        frames = step(request, frames)
    assert len(frames) == 6 + 2  # 0.25 s of label card at 8 fps
    meta = mp4_metadata(kind=request.kind, producer="Reelsmith", job_id=request.job_id, model="m",
                        label_text="AI-generated")
    verdict = inspect(encode_mp4(frames, fps=8, metadata=meta), settings)
    # inspect reads signals only; whether the job is on record is `resolve`'s (test_verify_origin.py)
    assert verdict.metadata_claims_us and verdict.metadata is not None and verdict.metadata.job_id == request.job_id
    assert matches(verdict.watermark, payload_for(request.job_id))

    # Re-encoded, tags gone. At CRF 20 the mark holds for every job id; at CRF 26 on a clip this small about 40% of
    # ids are lost (measured over 24; issue 19's video survival goal is open, see bench/README.md).
    stripped = inspect(encode_mp4(frames, fps=8, crf=20), settings)
    assert stripped.metadata is None and matches(stripped.watermark, payload_for(request.job_id))


def test_badge_and_watermark_can_be_turned_off() -> None:
    from core.labelling import labelling_feature

    assert len(labelling_feature(Settings(_env_file=None), None).frame_steps) == 2
    assert labelling_feature(Settings(_env_file=None, badge_enabled=False, watermark_enabled=False),
                             None).frame_steps == ()


def test_foreign_ai_metadata_is_not_ours() -> None:
    xmp = xmp_packet(kind=JobKind.IMAGE, producer="OtherTool", job_id="x", model="m")
    buf = io.BytesIO()
    picture(2).save(buf, format="JPEG", xmp=xmp)
    verdict = inspect(buf.getvalue(), Settings(_env_file=None))
    assert verdict.metadata is not None and verdict.metadata.ai_generated
    assert not verdict.labelled


def test_huge_photo_is_not_read_at_absurd_sizes() -> None:
    from core.labelling.verify import candidate_sizes, max_side

    settings = Settings(_env_file=None, image_base_size=1024, video_base_size=768)
    sizes = candidate_sizes((3000, 2000), settings)
    assert all(max(s) <= max_side(settings) for s in sizes)
    assert (1024, 672) in sizes  # the 3:2 generation size it may have been scaled from
