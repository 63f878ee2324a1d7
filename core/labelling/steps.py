"""Labelling as a feature: badge and watermark on pixels, C2PA on files, provenance records, and `/verify`."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from core.contract import ClipMark, CommandSpec, Feature, Finalizer, FramePostprocessor, MediaSigner
from core.i18n import N_
from core.labelling.badge import BadgeStyle, badge_frames, draw_badge, label_card
from core.labelling.c2pa_signing import C2paSigner
from core.labelling.provenance import ProvenanceRegistry
from core.labelling.verify import verify_command, video_mark_params
from core.labelling.video_mark import embed_clip, luma_change
from core.labelling.watermark import WatermarkParams, embed_frames, payload_for
from core.settings import Settings
from core.types import GenerationReply, GenerationRequest, JobKind


def badge_style(settings: Settings) -> BadgeStyle:
    return BadgeStyle(text=settings.badge_text or f"AI \u00b7 {settings.service_name}",
                      corner=settings.badge_corner, scale=settings.badge_scale)


def badge_step(settings: Settings) -> FramePostprocessor:
    """Visible badge on every frame; for videos, an optional opening label card."""
    style = badge_style(settings)

    def badge(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        # A clip's frames are its job's own (FramePostprocessor): drawn on in place, since a copy of every
        # frame was the badge's whole cost (62 ms for 97 768x432 frames); an image is copied (one frame).
        out = badge_frames(frames, style, in_place=request.kind.is_video)
        card_frames = round(settings.video_label_card_s * request.fps)
        # An extended clip opens with its source's card already; its new part gets none.
        if request.kind.is_video and request.kind != JobKind.EXTEND and card_frames > 0 and frames:
            card = draw_badge(label_card(frames[0], settings.label_text, f"made with {settings.service_name}"),
                              style)
            out = [card] * card_frames + out
        return out

    return badge


def watermark_step(settings: Settings, *, videos: bool = True) -> FramePostprocessor:
    """Invisible mark of the job id in every frame (the last change to pixels, so nothing overwrites it).

    Videos get the static luma pattern of `video_mark` (one pass a frame; the torch device is not needed for
    an add), images the DWT-DCT-SVD mark, on the configured device. With `videos=False` video frames pass
    unchanged: the worker marks them in their encoder (`clip_mark_step`).
    """
    image = WatermarkParams(scale=settings.watermark_scale)
    video = video_mark_params(settings)

    device = settings.watermark_device

    def watermark(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        payload = payload_for(request.job_id)
        if request.kind.is_video:
            return embed_clip(frames, payload, video) if videos else frames
        params = image
        if device != "numpy":
            from core.labelling.watermark_torch import embed_frames_torch  # torch only where it is asked for

            return embed_frames_torch(frames, payload, params, device)
        return embed_frames(frames, payload, params)

    return watermark


def clip_mark_step(settings: Settings) -> ClipMark:
    """The video mark of `watermark_step`, made by the encoder: in the MP4's Y plane (no RGB pass), in RGB
    for GIF. Both are the same change (tests/labelling/test_video_mark.py)."""
    params = video_mark_params(settings)

    def change(request: GenerationRequest, size: tuple[int, int]) -> np.ndarray | None:
        return luma_change(size, payload_for(request.job_id), params)

    def apply(request: GenerationRequest, frames: list[Image.Image]) -> list[Image.Image]:
        return embed_clip(frames, payload_for(request.job_id), params)

    return ClipMark(change=change, apply=apply)


def c2pa_step(settings: Settings) -> MediaSigner | None:
    """A signer when a certificate and key are configured, else None."""
    if settings.c2pa_cert_path is None or settings.c2pa_key_path is None:
        return None
    signer = C2paSigner.from_files(settings.c2pa_cert_path, settings.c2pa_key_path, alg=settings.c2pa_alg,
                                   tsa_url=settings.c2pa_tsa_url, producer=settings.service_name)

    def sign(request: GenerationRequest, model: str, data: bytes, mime: str) -> bytes:
        return signer.sign(data, mime, kind=request.kind, job_id=request.job_id, model=model)

    return sign


def provenance_step(settings: Settings, redis: Any) -> Finalizer:
    registry = ProvenanceRegistry(redis, settings)

    async def record_provenance(request: GenerationRequest, reply: GenerationReply) -> None:
        await registry.record(request, reply)

    return record_provenance


def labelling_feature(settings: Settings, redis: Any) -> Feature:
    """Labelling's part of the service (`/verify`) and the worker: frame steps (the visible badge, then the
    invisible watermark: the last change to pixels; a video's is its clip mark, made in its encoder), C2PA
    signing (last: it binds the exact bytes), provenance."""
    frame_steps: list[FramePostprocessor] = []
    if settings.badge_enabled:
        frame_steps.append(badge_step(settings))
    if settings.watermark_enabled:
        frame_steps.append(watermark_step(settings, videos=False))  # videos: marked in their encoder
    c2pa = c2pa_step(settings)
    return Feature(
        name="labelling",
        commands=(CommandSpec("verify", verify_command, N_("check whether an attached image or video was made here")),),
        finalizers=(provenance_step(settings, redis),),
        frame_steps=tuple(frame_steps),
        clip_marks=(clip_mark_step(settings),) if settings.watermark_enabled else (),
        media_signers=() if c2pa is None else (c2pa,),
    )
