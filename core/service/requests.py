"""From a parsed command and its references to a `GenerationRequest`: what the command makes, at what size,
how long, with which reference driving."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Literal

from core.contract import Attachment
from core.errors import CommandError
from core.i18n import _
from core.media.codecs import sniff
from core.service.grammar import (
    MAX_SEED,
    ParsedCommand,
    check_reference_limits,
    check_references,
    frames_for,
    named_references,
    resolve_meme,
)
from core.settings import Settings
from core.types import GenerationRequest, JobKind, MediaRef, MediaType, Requester, size_for

DEFAULT_SCALE = 2  # /upscale without --scale
UPSCALE_MULTIPLE = 8  # upscale results' sides are multiples of this (the VAEs' factor)


def resolve_media(settings: Settings, parsed: ParsedCommand, attachments: list[Attachment]) -> ParsedCommand:
    """Check references against limits and @-names, and settle what the command makes with them.

    Runs on sniffed types before anything is stored, so a request that breaks a rule costs nothing.
    """
    s = settings
    counts = {"image": 0, "video": 0, "audio": 0}
    for att in attachments:
        sniffed = sniff(att.data)
        if sniffed is not None:
            counts[sniffed.media_type.value] += 1
    check_reference_limits(counts, {"image": s.max_image_refs, "video": s.max_video_refs,
                                    "audio": s.max_audio_refs})
    if parsed.kind == JobKind.MEME:
        parsed = resolve_meme(parsed, has_media=bool(counts["image"] or counts["video"]))
    check_references(parsed.prompt, counts)
    if parsed.kind == JobKind.UPSCALE:
        check_upscale_media(counts)
    kind = parsed.kind
    # The first reference of a kind drives the job: /imagine with an image edits it, /video animates it.
    if kind == JobKind.IMAGE and counts["image"]:
        kind = JobKind.EDIT
    elif kind == JobKind.VIDEO and counts["image"] and not counts["video"]:
        kind = JobKind.ANIMATE
    if counts["audio"] and not (kind is not None and (kind.is_video or (kind == JobKind.MEME
                                                                         and counts["video"]))):
        raise CommandError(_("An audio file goes with a video: use /video or /animate, not /{command}.",
                             command=parsed.command))
    if parsed.fit_audio and not counts["audio"]:
        raise CommandError(_("--fit-audio needs an audio file: attach one (MP3, M4A, OGG or WAV) "
                             "or reply to a message that has one."))
    if parsed.output_format == "gif" and counts["audio"]:
        raise CommandError(_("GIFs have no sound: drop --format gif to get an MP4 with your audio."))
    return replace(parsed, kind=kind)


def build_request(settings: Settings, parsed: ParsedCommand, requester: Requester, refs: list[MediaRef],
                  *, seed: int | None = None) -> GenerationRequest:
    """The job a resolved generation command asks for (`parsed.kind` is set)."""
    s = settings
    assert parsed.kind is not None
    kind = parsed.kind
    refs = primary_first(refs, parsed.prompt)
    notes: list[str] = []
    long_side = s.video_size() if kind.is_video else s.image_size()
    width, height = size_for(parsed.aspect_ratio, long_side)
    frames = 1
    if kind.is_video:
        audio = next((r for r in refs if r.media_type == MediaType.AUDIO), None)
        duration = parsed.duration_s
        if parsed.fit_audio and audio is not None and audio.duration_s:
            duration = audio.duration_s
            if duration * s.video_fps > s.max_frames:
                notes.append(_("the clip stops at {seconds} s (the longest allowed); the audio was cut there",
                               seconds=f"{s.max_frames / s.video_fps:.1f}"))
        frames = frames_for(parsed.frames, duration, s.video_fps, s.frames_default(), s.max_frames)
    if kind == JobKind.UPSCALE:
        width, height = upscale_size(s, refs[0], parsed.scale or DEFAULT_SCALE, notes)
    if kind == JobKind.MEME:
        # Its size (and so its cost) is the member's picture as the worker renders it: shrunk to meme_max_side.
        source = next(r for r in refs if r.media_type in (MediaType.IMAGE, MediaType.VIDEO))
        width, height = _within(source.width or width, source.height or height, s.meme_max_side)
    chosen_seed = parsed.seed if parsed.seed is not None else seed
    return GenerationRequest(
        requester=requester,
        kind=kind,
        prompt=parsed.prompt,
        negative_prompt=parsed.negative_prompt,
        aspect_ratio=parsed.aspect_ratio,
        width=width,
        height=height,
        seed=chosen_seed if chosen_seed is not None else random_seed(),
        steps=parsed.steps or min(s.steps_default(), s.max_steps),
        typed=_typed(parsed),
        num_frames=frames,
        fps=s.video_fps,
        references=refs,
        meme_top=parsed.top_text,
        meme_bottom=parsed.bottom_text,
        fit_audio=parsed.fit_audio,
        output_format="gif" if parsed.output_format == "gif" else "mp4" if parsed.output_format else "auto",
        model=parsed.model,
        notes=notes,
        style=parsed.style,
        n_images=parsed.n_images or 1,  # without --n, the chat's default applies (core.variants' command step)
        spoiler=parsed.spoiler,  # without --spoiler, the chat's default may still set it (moderation's step)
    )


def check_upscale_media(counts: dict[str, int]) -> None:
    """/upscale takes exactly one image (no video, GIF frames or sound): say what is wrong before anything runs."""
    if counts["video"] or counts["audio"]:
        raise CommandError(_("/upscale works on one image; videos and audio cannot be upscaled. "
                             "Attach a PNG, JPEG or WebP image instead."))
    if counts["image"] != 1:
        raise CommandError(
            _("/upscale needs an image: attach one to your message, or reply to a message that has one.")
            if not counts["image"] else
            _("/upscale takes exactly one image; you attached {n}. Send them one at a time.", n=counts["image"])
        )


def upscale_size(settings: Settings, image: MediaRef, scale: int, notes: list[str]) -> tuple[int, int]:
    """The /upscale result's size: the image's times `scale`, capped at `upscale_side()` and snapped to
    UPSCALE_MULTIPLE; what a job costs (its output pixels) and what the worker makes."""
    cap = settings.upscale_side()
    width, height = image.width or 0, image.height or 0
    if not (width and height):
        raise CommandError(_("That image's size could not be read. Send it as a PNG or JPEG."))
    if max(width, height) * 2 > cap:
        raise CommandError(_("That image is already {width}x{height} px; /upscale makes images of at most {cap} px "
                             "a side, so it takes images up to {half} px. Send a smaller one.", width=width,
                             height=height, cap=cap, half=cap // 2))
    factor = min(float(scale), cap / max(width, height))
    if factor < scale:
        notes.append(_("upscaled {factor}x, not {scale}x: results are at most {cap} px a side",
                       factor=f"{factor:.1f}", scale=scale, cap=cap))


    def snap(v: float) -> int:
        return max(UPSCALE_MULTIPLE, int(v // UPSCALE_MULTIPLE) * UPSCALE_MULTIPLE)
    return snap(width * factor), snap(height * factor)


def _typed(parsed: ParsedCommand) -> list[Literal["steps", "frames"]]:
    """What the member set themselves, so a model's defaults never override it."""
    typed: list[Literal["steps", "frames"]] = ["steps"] if parsed.steps else []
    if parsed.frames or parsed.duration_s or parsed.fit_audio:
        typed.append("frames")
    return typed


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def primary_first(refs: list[MediaRef], prompt: str) -> list[MediaRef]:
    """References with, per kind, those the prompt names first (in the order named): `@image2` then drives."""
    by_kind: dict[str, list[MediaRef]] = {}
    for ref in refs:
        by_kind.setdefault(ref.media_type.value, []).append(ref)
    order: dict[str, list[int]] = {}
    for kind, n in named_references(prompt):
        if n - 1 not in order.setdefault(kind, []) and n <= len(by_kind.get(kind, [])):
            order[kind].append(n - 1)
    out: list[MediaRef] = []
    for kind, items in by_kind.items():
        named = order.get(kind, [])
        out += [items[i] for i in named] + [r for i, r in enumerate(items) if i not in named]
    return out


def _within(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))
