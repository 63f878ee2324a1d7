"""/verify: does an attached image or video carry Reelsmith's marks, and (for moderators) which job made it.

Three independent signals, strongest first: a C2PA manifest (cryptographic, lost on any re-encode),
the XMP / MP4 metadata (lost when platforms strip it), and the invisible watermark (survives
recompression and resizing). Metadata alone can be forged, so the answer says which signals agree.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.contract import CommandCall, Outcome
from core.errors import MediaError
from core.labelling.c2pa_signing import C2paInfo, leaf_serial, read_manifest
from core.labelling.metadata import TC260_NS
from core.labelling.provenance import ProvenanceRecord, ProvenanceRegistry
from core.labelling.watermark import Decoded, WatermarkParams, decode, decode_frames, payload_for
from core.media.codecs import container_tags
from core.media.codecs import image_xmp as image_xmp  # re-exported: readers of XMP import it from here
from core.media.sizes import human_limit, human_size
from core.media.untrusted import UntrustedMedia, VerifyMedia, media_limits, read_for_verify
from core.settings import Settings
from core.types import MediaType, size_for

# Confidence (0..1, how unanimous the watermark's repeated blocks are). Unmarked images read
# about 0.1-0.2 at 256 px; marked ones after JPEG q75 and a 0.5x resize read far higher (bench/).
CONFIDENT = 0.45  # a mark on its own
CONFIRMED = 0.3  # a mark whose payload is also in the registry

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
    watermark_jobs: list[str] = field(default_factory=list)
    record: ProvenanceRecord | None = None
    producer_matches: bool = False
    producer_matches_c2pa: bool = False

    @property
    def has_watermark(self) -> bool:
        if self.watermark is None:
            return False
        return self.watermark.confidence >= (CONFIRMED if self.watermark_jobs else CONFIDENT)

    @property
    def has_metadata(self) -> bool:
        return self.metadata is not None and self.metadata.ai_generated and self.producer_matches

    @property
    def has_c2pa(self) -> bool:
        return self.c2pa.present and self.c2pa.valid and self.producer_matches_c2pa

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


def judge(media: VerifyMedia, data: bytes, settings: Settings) -> Verdict:
    """The verdict from what was read: watermark, metadata and C2PA (blocking: call it off the event loop)."""
    verdict = Verdict(media_type=media.media_type)
    frames = [f.image() for f in media.frames]
    if media.media_type == MediaType.IMAGE:
        verdict.metadata = metadata_from_xmp(media.xmp)
        verdict.watermark = decode(frames[0], candidate_sizes(frames[0].size, settings),
                                   WatermarkParams(scale=settings.watermark_scale), max_side(settings))
    else:
        verdict.metadata = metadata_from_tags(media.tags)
        verdict.watermark = decode_frames(frames, candidate_sizes(frames[0].size, settings),
                                          WatermarkParams(scale=settings.video_watermark_scale), max_side(settings))
    verdict.c2pa = read_manifest(data, media.mime)
    verdict.producer_matches = verdict.metadata is not None and verdict.metadata.producer == settings.service_name
    if settings.c2pa_cert_path is not None:  # anyone can name us as generator; only our key signs as us
        verdict.producer_matches_c2pa = verdict.c2pa.present and verdict.c2pa.cert_serial == leaf_serial(
            settings.c2pa_cert_path)
    else:
        verdict.producer_matches_c2pa = verdict.c2pa.generator == settings.service_name
    return verdict


async def verify(data: bytes, settings: Settings, registry: ProvenanceRegistry) -> Verdict:
    """The verdict on a member's file: decoded in the sandbox (only the frames sampled), judged in a thread."""
    media = await UntrustedMedia(settings).for_verify(data, settings.verify_max_video_frames, max_side(settings))
    verdict = await asyncio.to_thread(judge, media, data, settings)
    if verdict.watermark is not None:
        jobs = await registry.jobs_for_payload(verdict.watermark.payload)
        # Only jobs whose id really hashes to the payload (the index is keyed by it, but be strict).
        verdict.watermark_jobs = [j for j in jobs if payload_for(j) == verdict.watermark.payload]
    if verdict.job_id:
        verdict.record = await registry.get(verdict.job_id)
    return verdict


def answer(verdict: Verdict, settings: Settings, *, moderator: bool) -> str:
    """The reply: what was found for everyone; who made it for moderators."""
    what = "image" if verdict.media_type == MediaType.IMAGE else "video"
    name = settings.service_name
    if not verdict.labelled:
        text = (f"\u274c I found no {name} watermark, metadata or C2PA manifest in this {what}. "
                f"It was not made here, or it was changed too much to tell (it may still be AI-generated elsewhere).")
        if verdict.metadata is not None and verdict.metadata.ai_generated:
            text += f"\nIts metadata says it is AI-generated by \u201c{verdict.metadata.producer or 'unknown'}\u201d."
        return text
    found = []
    if verdict.has_watermark:
        found.append("invisible watermark")
    if verdict.has_metadata:
        found.append("AI-label metadata (IPTC trainedAlgorithmicMedia, AIGC record)")
    if verdict.has_c2pa:
        found.append("signed C2PA manifest")
    text = f"\u2705 This {what} was made with {name} (AI-generated). Found: {', '.join(found)}."
    if verdict.has_metadata and not verdict.has_watermark and not verdict.has_c2pa:
        text += "\nOnly metadata was found, and metadata can be copied; treat this as a claim."
    if not moderator:
        return text
    job_id = verdict.job_id
    if not job_id:
        return text + "\nModerators: no job id could be read."
    rec = verdict.record
    if rec is None:
        return text + f"\nModerators: job {job_id} is not in the registry (older than the retention, or forged)."
    when = datetime.fromtimestamp(rec.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = f"{rec.display_name} ({rec.platform}:{rec.user_id})" if rec.display_name else f"{rec.platform}:{rec.user_id}"
    text += (f"\nModerators: job {rec.job_id}, {rec.kind} requested by {who} in chat {rec.chat_id} on {when}, "
             f"model {rec.model}, prompt sha256 {rec.prompt_sha256[:16]}\u2026")
    if verdict.metadata and verdict.metadata.job_id and verdict.metadata.job_id != rec.job_id:
        text += f"\nNote: the metadata names another job ({verdict.metadata.job_id}); it may have been edited."
    return text


async def verify_command(call: CommandCall) -> Outcome:
    """/verify with an attached (or replied-to) image or video."""
    settings = call.service.settings
    media = [a for a in call.attachments if a.data]
    if not media:
        return Outcome("Attach an image or video to /verify (or reply to one with /verify) and I'll check "
                       f"whether {settings.service_name} made it.", ok=False, private=True)
    att = media[0]
    if len(att.data) > settings.max_reference_bytes:
        raise MediaError(f"That file is {human_size(len(att.data))}; the limit is "
                         f"{human_limit(settings.max_reference_bytes)}.")
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
