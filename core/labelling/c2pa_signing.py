"""Optional C2PA manifests: signed when the owner configures a certificate chain and key, read by /verify.

Signing is the last step after XMP (any later re-encode removes the manifest anyway). The
thumbnail is off: it costs milliseconds and a few KB instead of making files many times larger.
`c2pa-python` is imported lazily so a deployment without it still starts; signing is then off.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.labelling.metadata import source_type
from core.types import JobKind

log = logging.getLogger(__name__)

SIGNABLE = ("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4")
_CONTEXT = {"builder": {"thumbnail": {"enabled": False}}}


@dataclass(frozen=True)
class C2paInfo:
    """What a manifest says, as far as /verify needs it."""

    present: bool
    valid: bool = False
    issuer: str = ""
    cert_serial: str = ""  # decimal serial number of the signing certificate
    generator: str = ""
    job_id: str = ""
    ai_generated: bool = False
    problems: tuple[str, ...] = ()


def leaf_serial(cert_path: Path) -> str:
    """Decimal serial of the first (signing) certificate in a PEM chain, as manifests report it."""
    from cryptography import x509

    return str(x509.load_pem_x509_certificates(cert_path.read_bytes())[0].serial_number)


def available() -> bool:
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return False
    return True


class C2paSigner:
    """Signs finished media with the configured certificate chain (leaf first) and private key."""

    def __init__(self, cert_chain_pem: str, private_key_pem: str, *, alg: str = "es256",
                 tsa_url: str | None = None, producer: str = "Reelsmith") -> None:
        self.cert_chain_pem = cert_chain_pem
        self.private_key_pem = private_key_pem
        self.alg = alg
        self.tsa_url = tsa_url
        self.producer = producer

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path, **kwargs: Any) -> C2paSigner:
        return cls(cert_path.read_text("utf-8"), key_path.read_text("utf-8"), **kwargs)

    def manifest(self, *, kind: JobKind, job_id: str, model: str) -> dict[str, Any]:
        return {
            "claim_generator_info": [{"name": self.producer, "version": "1"}],
            "title": f"{self.producer} job {job_id}",
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": source_type(kind),
                     "softwareAgent": {"name": f"{self.producer} ({model})"}},
                ]}},
                {"label": "org.reelsmith.job", "data": {"job_id": job_id, "model": model}},
            ],
        }

    def sign(self, data: bytes, mime: str, *, kind: JobKind, job_id: str, model: str) -> bytes:
        """`data` with an embedded, signed manifest; unsupported types are returned unchanged."""
        if mime not in SIGNABLE:
            return data
        import c2pa

        info = c2pa.C2paSignerInfo(self.alg.encode(), self.cert_chain_pem.encode(),
                                   self.private_key_pem.encode(), self.tsa_url.encode() if self.tsa_url else None)
        signer = c2pa.Signer.from_info(info)
        context = c2pa.Context.from_dict(_CONTEXT)
        try:
            with c2pa.Builder(self.manifest(kind=kind, job_id=job_id, model=model), context) as builder:
                out = io.BytesIO()
                builder.sign(signer, mime, io.BytesIO(data), out)
                return out.getvalue()
        finally:
            signer.close()
            context.close()


def read_manifest(data: bytes, mime: str) -> C2paInfo:
    """The active manifest's facts; `present=False` when there is none or c2pa-python is missing."""
    if mime not in SIGNABLE or not available():
        return C2paInfo(present=False)
    import c2pa

    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data))
    except Exception as exc:  # a damaged or foreign manifest is reported, not fatal
        return C2paInfo(present=True, problems=(f"unreadable manifest: {type(exc).__name__}",))
    if reader is None:
        return C2paInfo(present=False)
    with reader:
        store = json.loads(reader.json())
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    statuses = store.get("validation_status") or []
    # Self-made certificates are not on the C2PA trust list; that is not tampering.
    problems = tuple(str(s.get("code", "")) for s in statuses
                     if not str(s.get("code", "")).startswith("signingCredential.untrusted"))
    job_id = ""
    ai = False
    for assertion in active.get("assertions", []):
        data_ = assertion.get("data", {})
        if assertion.get("label") == "org.reelsmith.job":
            job_id = str(data_.get("job_id", ""))
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            ai = ai or any("trainedalgorithmicmedia" in str(a.get("digitalSourceType", "")).lower()
                           for a in data_.get("actions", []))
    generators = active.get("claim_generator_info") or [{}]
    signature = active.get("signature_info", {})
    return C2paInfo(present=True, valid=not problems, issuer=str(signature.get("issuer", "")),
                    cert_serial=str(signature.get("cert_serial_number", "")),
                    generator=str(generators[0].get("name", "")), job_id=job_id, ai_generated=ai,
                    problems=problems)

