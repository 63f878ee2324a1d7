"""Labels every output carries: a caption line people read and XMP metadata machines read."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from core.i18n import N_, _, translate
from core.types import JobKind

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE_SOURCE_TYPE = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)
TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
CAPTION_LIMIT = 1024  # Telegram's caption limit, the tightest of the platforms
# `label_text`'s default, translated in captions; an owner's own label text is shown as they set it.
DEFAULT_LABEL = N_("AI-generated")
LABEL_MARK = "\U0001f916"  # opens every caption's label line, in every language


def source_type(kind: JobKind) -> str:
    """IPTC digital source type: edits of a member's photo are composites."""
    return COMPOSITE_SOURCE_TYPE if kind.needs_image else DIGITAL_SOURCE_TYPE


def caption(*, label_text: str, service: str, model: str, job_id: str, seed: int, prompt: str,
            limit: int = CAPTION_LIMIT) -> str:
    """Caption with the AI label first, so truncation can never remove it (in the current locale: `core.i18n`)."""
    label = f"{LABEL_MARK} " + _("{label} with {service} \u00b7 model {model} \u00b7 job {job_id} \u00b7 seed {seed}",
                                 label=translate(label_text), service=service, model=model, job_id=job_id,
                                 seed=seed)
    room = limit - len(label) - 3
    text = prompt if len(prompt) <= room else prompt[: max(0, room - 1)] + "\u2026"
    return f"{label}\n\u201c{text}\u201d" if room > 10 else label[:limit]


def aigc_record(*, producer: str, job_id: str) -> dict[str, str]:
    """The TC260 implicit-label record (China's AI-content labelling measures)."""
    return {
        "Label": "1",
        "ContentProducer": producer,
        "ProduceID": job_id,
        "ReservedCode1": "",
        "ContentPropagator": producer,
        "PropagateID": job_id,
        "ReservedCode2": "",
    }


def xmp_packet(*, kind: JobKind, producer: str, job_id: str, model: str) -> bytes:
    """One XMP packet with IPTC DigitalSourceType and the TC260 AIGC record."""
    aigc = escape(json.dumps(aigc_record(producer=producer, job_id=job_id), separators=(",", ":")))
    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' xmlns:TC260="{TC260_NS}">'
        f"<Iptc4xmpExt:DigitalSourceType>{source_type(kind)}</Iptc4xmpExt:DigitalSourceType>"
        f"<xmp:CreatorTool>{escape(producer)} ({escape(model)})</xmp:CreatorTool>"
        f"<dc:identifier>{escape(job_id)}</dc:identifier>"
        f"<TC260:AIGC>{aigc}</TC260:AIGC>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return xml.encode("utf-8")


def mp4_metadata(*, kind: JobKind, producer: str, job_id: str, model: str, label_text: str) -> dict[str, str]:
    """Container tags for MP4 (written with movflags=use_metadata_tags)."""
    return {
        "comment": f"{label_text} by {producer} ({model}), job {job_id}",
        "DigitalSourceType": source_type(kind),
        "AIGC": json.dumps(aigc_record(producer=producer, job_id=job_id), separators=(",", ":")),
        "encoder": producer,
    }
