"""Verification of every signature in a PDF, by pyHanko's validator with the signing CA's
roots as the only trust anchors, offline: what any PAdES validator that trusts the CA's
certificate concludes, plus whether this platform holds evidence of the signature."""
from __future__ import annotations

import logging

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from core import clock
from core.extensions import db
from signatures import ca as signing_ca
from signatures.documents import read_pdf, sha256
from signatures.errors import BrokenPdf
from signatures.models import ENTERPRISE, PERSON, Signature

log = logging.getLogger(__name__)


def verify_document(data: bytes) -> dict:
    """``{signatures: [{signer, kind, signed_at, intact, trusted, certificate_serial,
    evidence}]}`` in the order the signatures were made. Raises what ``read_pdf`` raises."""
    reader = read_pdf(data)
    roots = [asn1_x509.Certificate.load(ca.root_certificate) for ca in signing_ca.all_cas()]
    try:
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        raise BrokenPdf("The PDF's signature fields cannot be read.") from exc
    return {"signatures": [_report(data, sig, roots) for sig in embedded]}


def _report(data: bytes, embedded, roots: list) -> dict:
    certificate = _signing_certificate(embedded)
    serial = format(certificate.serial_number, "X") if certificate is not None else None
    intact = trusted = False
    signed_at = None
    try:
        status = _validate(embedded, roots)
        intact = bool(status.intact and status.valid
                      and (status.docmdp_ok or status.modification_level is None))
        trusted = bool(status.trusted)
        signed_at = status.signer_reported_dt
    except Exception as exc:  # noqa: BLE001 - a malformed signature is simply not a good one
        log.info("signature not validated", extra={"error_type": type(exc).__name__})
    return {"signer": _common_name(certificate), "kind": _kind(certificate),
            "signed_at": clock.rfc3339(signed_at) if signed_at else None,
            "intact": intact, "trusted": trusted, "certificate_serial": serial,
            "evidence": serial is not None and _has_evidence(data, embedded, serial)}


def _validate(embedded, roots: list):
    # The platform, which holds every signing key, puts the signing time in each signature:
    # a one-time certificate is judged at that time, as a time-stamp would be.
    context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                moment=embedded.self_reported_timestamp or clock.now())
    return validate_pdf_signature(embedded, signer_validation_context=context)


def _signing_certificate(embedded) -> asn1_x509.Certificate | None:
    try:
        return embedded.signer_cert
    except Exception:  # noqa: BLE001 - untrusted input: no certificate to show
        return None


def _common_name(certificate) -> str | None:
    if certificate is None:
        return None
    subject = certificate.subject.native
    return subject.get("common_name") or subject.get("organization_name")


def _kind(certificate) -> str | None:
    if certificate is None:
        return None
    subject = certificate.subject.native
    return ENTERPRISE if "organization_identifier" in subject else PERSON


def _has_evidence(data: bytes, embedded, serial: str) -> bool:
    """Whether this signature is one made here: the revision it closes, hashed, and its
    certificate serial match a signature on record."""
    try:
        _start, _first, second, length = (int(n) for n in embedded.byte_range)
    except (TypeError, ValueError):
        return False
    revision = sha256(data[:second + length])
    return db.session.scalar(select(Signature.id).where(
        Signature.document_sha256 == revision, Signature.certificate_serial == serial)
        .limit(1)) is not None
