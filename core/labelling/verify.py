"""/verify: does an attached image or video carry Reelsmith's marks, and (for moderators) which job made it.

Three independent signals, strongest first: a C2PA manifest (cryptographic, lost on any re-encode),
the XMP / MP4 metadata (lost when platforms strip it), and the invisible watermark (survives
recompression and resizing). A file is said to be made here only when a signal names a job that
has a provenance record: the watermark's reading must pass its check value and its payload resolve
to a recorded job, metadata must name a recorded job, and a C2PA manifest must be signed with our key
(or, with no key configured, name a recorded job). Anything else is "not recognised"; a file whose
metadata claims us without a record is told that the claim could not be confirmed.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PIL import Image

from core.contract import CommandCall, Outcome
from core.errors import MediaError
from core.i18n import _
from core.labelling.c2pa_signing import C2paInfo, leaf_serial, read_manifest
from core.labelling.mark_search import search
from core.labelling.metadata import TC260_NS
from core.labelling.provenance import ProvenanceRecord, ProvenanceRegistry
from core.labelling.video_mark import VideoMarkParams, decode_clip, luma_image
from core.labelling.watermark import Decoded, WatermarkParams, payload_for
from core.media.codecs import container_tags
from core.media.codecs import image_xmp as image_xmp  # re-exported: readers of XMP import it from here
from core.media.sizes import human_limit, human_size
from core.media.untrusted import UntrustedMedia, VerifyMedia, media_limits, read_for_verify
from core.settings import Settings
from core.types import MediaType, size_for

_DST_RE = re.compile(r"<Iptc4xmpExt:DigitalSourceType>([^<]*)</Iptc4xmpExt:DigitalSourceType>")
_AIGC_RE = re.compile(r"<TC260:AIGC>([^<]*)</TC260:AIGC>")


@dataclass(frozen=True)
class Metadata:
    """The implicit label as read from XMP (images) or container tags (MP4)."""

    source_type: str = ""
    producer: str = ""
    job_id: str = ""
    aigc_label: bool = False

    @property
    def ai_generated(self) -> bool:
        return self.aigc_label or "trainedalgorithmicmedia" in self.source_type.lower()  # composites too


@dataclass
class Verdict:
    media_type: MediaType
    metadata: Metadata | None = None
    c2pa: C2paInfo = field(default_factory=lambda: C2paInfo(present=False))
    watermark: Decoded | None = None
    watermark_jobs: list[str] = field(default_factory=list)  # recorded jobs the (valid) mark resolves to
    records: dict[str, ProvenanceRecord] = field(default_factory=dict)  # the named jobs that are on record
    record: ProvenanceRecord | None = None
    producer_matches: bool = False
    producer_matches_c2pa: bool = False
    signed_with_our_key: bool = False  # the manifest's leaf certificate is the configured one

    @property
    def has_watermark(self) -> bool:
        """A mark that passed its check value and resolves to a job on record."""
        return self.watermark is not None and self.watermark.valid and bool(self.watermark_jobs)

    @property
    def metadata_claims_us(self) -> bool:
        return self.metadata is not None and self.metadata.ai_generated and self.producer_matches

    @property
    def has_metadata(self) -> bool:
        """Metadata naming us and a job that is on record (anyone can write our name into XMP)."""
        return self.metadata_claims_us and self.metadata is not None and self.metadata.job_id in self.records

    @property
    def has_c2pa(self) -> bool:
        if not (self.c2pa.present and self.c2pa.valid and self.producer_matches_c2pa):
            return False
        return self.signed_with_our_key or self.c2pa.job_id in self.records  # our signature is proof enough

    @property
    def unconfirmed_claim(self) -> str:
        """The job id a file claims to be ours by, when nothing confirmed it ("" otherwise)."""
        if self.labelled:
            return ""
        if self.metadata_claims_us and self.metadata is not None:
            return self.metadata.job_id or "?"
        if self.c2pa.present and self.producer_matches_c2pa:
            return self.c2pa.job_id or "?"
        return ""

    @property
    def labelled(self) -> bool:
        return self.has_watermark or self.has_metadata or self.has_c2pa

    @property
    def job_id(self) -> str:
        """The job the strongest signal names."""
        if self.has_c2pa and self.c2pa.job_id:
            return self.c2pa.job_id
        if self.has_watermark and self.watermark_jobs:
            if self.metadata and self.metadata.job_id in self.watermark_jobs:
                return self.metadata.job_id
            return self.watermark_jobs[0]
        return self.metadata.job_id if self.has_metadata and self.metadata else ""


def parse_aigc(text: str) -> Metadata:
    try:
        record = json.loads(text)
    except ValueError:
        return Metadata()
    if not isinstance(record, dict):
        return Metadata()
    return Metadata(producer=str(record.get("ContentProducer", "")), job_id=str(record.get("ProduceID", "")),
                    aigc_label=str(record.get("Label", "")) == "1")


def metadata_from_xmp(xmp: str) -> Metadata | None:
    """Source type and AIGC record from an XMP packet (None when neither is there)."""
    dst = _DST_RE.search(xmp)
    aigc = _AIGC_RE.search(xmp)
    if dst is None and (aigc is None or TC260_NS not in xmp):
        return None
    meta = parse_aigc(html.unescape(aigc.group(1))) if aigc else Metadata()
    return Metadata(source_type=html.unescape(dst.group(1)) if dst else "", producer=meta.producer,
                    job_id=meta.job_id, aigc_label=meta.aigc_label)


def mp4_tags(data: bytes) -> dict[str, str]:
    """A video's container tags ({} when unreadable)."""
    return container_tags(data)


def metadata_from_tags(tags: dict[str, str]) -> Metadata | None:
    if "DigitalSourceType" not in tags and "AIGC" not in tags:
        return None
    meta = parse_aigc(tags.get("AIGC", ""))
    return Metadata(source_type=tags.get("DigitalSourceType", ""), producer=meta.producer, job_id=meta.job_id,
                    aigc_label=meta.aigc_label)


def candidate_sizes(size: tuple[int, int], settings: Settings) -> list[tuple[int, int]]:
    """Sizes this picture may have been generated at: the configured long sides, or twice its own."""
    w, h = size
    longs = {settings.image_size(), settings.video_size()}
    if 2 * max(w, h) <= max_side(settings):
        longs.add(2 * max(w, h))  # a halved copy of an output made under other settings
    return [size_for(f"{w}:{h}", long_side) for long_side in sorted(longs)]


def max_side(settings: Settings) -> int:
    """The largest side a Reelsmith output can have, with room for settings changed since."""
    return max(2048, settings.image_size(), settings.video_size())


def inspect(data: bytes, settings: Settings) -> Verdict:
    """Read every signal from the bytes in this process (blocking; for tests and tools: the service decodes
    members' files in the sandbox, see `verify`)."""
    media = read_for_verify(data, media_limits(settings), settings.verify_max_video_frames, max_side(settings))
    return judge(media, data, settings)


# A file turned or mirrored (a phone's rotation, a re-post flipped): the mark is read in each of the eight
# orientations until one reading passes its check value.
ORIENTATIONS: tuple[Image.Transpose | None, ...] = (
    None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


def video_mark_params(settings: Settings) -> VideoMarkParams:
    return VideoMarkParams(cell=settings.video_watermark_cell, amplitude=settings.video_watermark_amplitude)


def _oriented(frames: list[Image.Image]) -> Iterator[list[Image.Image]]:
    for turn in ORIENTATIONS:
        yield frames if turn is None else [f.transpose(turn) for f in frames]


def _best(readings: Iterable[Decoded | None]) -> Decoded | None:
    """The first valid reading, else the most confident."""
    best: Decoded | None = None
    for got in readings:
        if got is not None and got.valid:
            return got
        if got is not None and (best is None or got.confidence > best.confidence):
            best = got
    return best


def video_sizes(size: tuple[int, int], settings: Settings) -> list[tuple[int, int]]:
    """`candidate_sizes`, then the same long sides at the clip's exact aspect: the video mark's cells must line
    up to within a pixel or two, and a transcode keeps the aspect, not the generation size's rounding."""
    w, h = size
    longs = sorted({max(s) for s in candidate_sizes(size, settings)})
    exact = [(long_side, round(long_side * h / w)) if w >= h else (round(long_side * w / h), long_side)
             for long_side in longs]
    return list(dict.fromkeys([*exact, *candidate_sizes(size, settings)]))


def read_video_mark(frames: list[Image.Image], settings: Settings) -> Decoded | None:
    """A clip's mark over the eight orientations and the sizes it may have been generated at."""
    if not frames:
        return None
    params, side = video_mark_params(settings), max_side(settings)
    lumas = [luma_image(f) for f in frames]
    return _best(decode_clip(turned, video_sizes(turned[0].size, settings), params, side)
                 for turned in _oriented(lumas))


def _read_mark(media_type: MediaType, frames: list[Image.Image], settings: Settings) -> Decoded | None:
    """The best watermark reading: for an image, `mark_search` (crops, screenshot borders, rescales and the
    eight orientations); for a video, the static pattern over the orientations and generation sizes."""
    if media_type != MediaType.IMAGE:
        return read_video_mark(frames, settings)
    return search(frames[0], lambda size: candidate_sizes(size, settings),
                  WatermarkParams(scale=settings.watermark_scale), max_side(settings)).decoded


def judge(media: VerifyMedia, data: bytes, settings: Settings) -> Verdict:
    """The verdict from what was read: watermark, metadata and C2PA (blocking: call it off the event loop)."""
    verdict = Verdict(media_type=media.media_type)
    frames = [f.image() for f in media.frames]
    if media.media_type == MediaType.IMAGE:
        verdict.metadata = metadata_from_xmp(media.xmp)
    else:
        verdict.metadata = metadata_from_tags(media.tags)
    verdict.watermark = _read_mark(media.media_type, frames, settings)
    verdict.c2pa = read_manifest(data, media.mime)
    verdict.producer_matches = verdict.metadata is not None and verdict.metadata.producer == settings.service_name
    if settings.c2pa_cert_path is not None:  # anyone can name us as generator; only our key signs as us
        verdict.producer_matches_c2pa = verdict.c2pa.present and verdict.c2pa.cert_serial == leaf_serial(
            settings.c2pa_cert_path)
        verdict.signed_with_our_key = verdict.producer_matches_c2pa
    else:
        verdict.producer_matches_c2pa = verdict.c2pa.generator == settings.service_name
    return verdict


async def verify(data: bytes, settings: Settings, registry: ProvenanceRegistry) -> Verdict:
    """The verdict on a member's file: decoded in the sandbox (only the frames sampled), judged in a thread."""
    media = await UntrustedMedia(settings).for_verify(data, settings.verify_max_video_frames, max_side(settings))
    return await resolve(await asyncio.to_thread(judge, media, data, settings), registry)


async def verify_in_process(data: bytes, settings: Settings, registry: ProvenanceRegistry) -> Verdict:
    """`verify` with the file decoded in this process (tests and benches: the same judge and registry)."""
    return await resolve(await asyncio.to_thread(inspect, data, settings), registry)


async def resolve(verdict: Verdict, registry: ProvenanceRegistry) -> Verdict:
    """Look up the jobs the signals name; only jobs on record confirm an origin."""
    mark = verdict.watermark
    if mark is not None and mark.valid:
        # Only jobs whose id really hashes to the payload (the index is keyed by it, but be strict).
        for job in await registry.jobs_for_payload(mark.payload):
            if payload_for(job) == mark.payload and (rec := await registry.get(job)) is not None:
                verdict.records[job] = rec
                verdict.watermark_jobs.append(job)
    named = [verdict.metadata.job_id if verdict.metadata else "", verdict.c2pa.job_id or ""]
    for job in named:
        if job and job not in verdict.records and (rec := await registry.get(job)) is not None:
            verdict.records[job] = rec
    verdict.record = verdict.records.get(verdict.job_id)
    return verdict


def answer(verdict: Verdict, settings: Settings, *, moderator: bool) -> str:
    """The reply: what was found for everyone; who made it for moderators."""
    image = verdict.media_type == MediaType.IMAGE
    name = settings.service_name
    if not verdict.labelled:
        text = "\u274c " + (
            _("This image is not recognised as made with {service}: I found no {service} watermark, metadata or "
              "C2PA manifest that names a job made here. It was not made here, or it was changed too much to tell "
              "(it may still be AI-generated elsewhere).", service=name) if image else
            _("This video is not recognised as made with {service}: I found no {service} watermark, metadata or "
              "C2PA manifest that names a job made here. It was not made here, or it was changed too much to tell "
              "(it may still be AI-generated elsewhere).", service=name))
        claim = verdict.unconfirmed_claim
        if claim:
            text += "\n" + _("Its metadata claims it was made with {service} (job {job_id}), but no such job is on "
                             "record here, so the claim could not be confirmed (metadata can be copied or forged, and "
                             "records are kept only for a while).", service=name, job_id=claim)
        elif verdict.metadata is not None and verdict.metadata.ai_generated:
            producer = verdict.metadata.producer
            text += "\n" + (_("Its metadata says it is AI-generated by \u201c{producer}\u201d.", producer=producer)
                            if producer else _("Its metadata says it is AI-generated (it does not name by what)."))
        return text
    found = []
    if verdict.has_watermark:
        found.append(_("invisible watermark"))
    if verdict.has_metadata:
        found.append(_("AI-label metadata (IPTC trainedAlgorithmicMedia, AIGC record)"))
    if verdict.has_c2pa:
        found.append(_("signed C2PA manifest"))
    signals = ", ".join(found)
    text = "\u2705 " + (_("This image was made with {service} (AI-generated). Found: {signals}.", service=name,
                          signals=signals) if image else
                        _("This video was made with {service} (AI-generated). Found: {signals}.", service=name,
                          signals=signals))
    if verdict.has_metadata and not verdict.has_watermark and not verdict.has_c2pa:
        text += "\n" + _("Only metadata was found, and metadata can be copied; treat this as a claim.")
    if not moderator:
        return text
    job_id = verdict.job_id
    if not job_id:
        return text + "\n" + _("Moderators: no job id could be read.")
    rec = verdict.record
    if rec is None:
        return text + "\n" + _("Moderators: job {job_id} is not in the registry (older than the retention, or "
                               "forged).", job_id=job_id)
    when = datetime.fromtimestamp(rec.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = f"{rec.display_name} ({rec.platform}:{rec.user_id})" if rec.display_name else f"{rec.platform}:{rec.user_id}"
    text += "\n" + _("Moderators: job {job_id}, {kind} requested by {user} in chat {chat} on {when}, model {model}, "
                     "prompt sha256 {digest}\u2026", job_id=rec.job_id, kind=rec.kind, user=who, chat=rec.chat_id,
                     when=when, model=rec.model, digest=rec.prompt_sha256[:16])
    if verdict.metadata and verdict.metadata.job_id and verdict.metadata.job_id != rec.job_id:
        text += "\n" + _("Note: the metadata names another job ({job_id}); it may have been edited.",
                         job_id=verdict.metadata.job_id)
    return text


async def verify_command(call: CommandCall) -> Outcome:
    """/verify with an attached (or replied-to) image or video."""
    settings = call.service.settings
    media = [a for a in call.attachments if a.data]
    if not media:
        return Outcome(_("Attach an image or video to /verify (or reply to one with /verify) and I'll check "
                         "whether {service} made it.", service=settings.service_name), ok=False, private=True)
    att = media[0]
    if len(att.data) > settings.max_reference_bytes:
        raise MediaError(_("That file is {size}; the limit is {limit}. Send a smaller file.",
                           size=human_size(len(att.data)), limit=human_limit(settings.max_reference_bytes)))
    registry = ProvenanceRegistry(call.service.redis, settings)
    verdict = await verify(att.data, settings, registry)
    moderator = may_trace(verdict.record, call)
    text = answer(verdict, settings, moderator=moderator)
    # Who made a result is for the moderators' eyes only.
    return Outcome(text, ok=True, private=moderator and verdict.labelled,
                   extra={"labelled": str(verdict.labelled).lower(), "job_id": verdict.job_id if moderator else ""})


def may_trace(record: ProvenanceRecord | None, call: CommandCall) -> bool:
    """Who made a result, and where, is for the configured moderators and for the moderators of the job's own
    chat (Discord: server); a moderator of any other chat learns only that it was made here."""
    who = call.requester
    if call.service.settings.is_configured_moderator(who.platform, who.user_id):
        return True
    return (call.ctx.is_moderator and record is not None
            and (record.platform, record.moderated_in) == (who.platform, who.scope))
