"""Signing and sealing, and the evidence each one leaves.

A resident signs with their own key, an enterprise's member seals with the enterprise's key;
either way the platform makes a one-time certificate under its signing CA, pyHanko signs,
and the audit chain records the document's SHA-256 before and after, the signer, the
certificate serial and the time. The checks come first and nothing is written for a refusal:
the caller commits only what a successful signature adds.
"""
from __future__ import annotations

from sqlalchemy import select

from core import audit, clock
from core.errors import NotFound
from core.extensions import db
from core.ids import new_id
from enterprises import service as enterprises
from enterprises.models import SEAL
from identity import reauthentication
from identity.models import Person
from signatures import ca as signing_ca
from signatures.documents import check_document, sha256, sign_pdf
from signatures.models import ENTERPRISE, PERSON, Signature


def sign_document(person: Person, data: bytes, reason: str | None, location: str | None,
                  password: str | None, otp: str | None,
                  client_address: str | None) -> tuple[Signature, bytes]:
    """The resident's PAdES signature on ``data``: returns the record and the signed PDF.

    Raises ``ReauthenticationRequired`` (no or a wrong password / one-time code),
    ``TooManyAttempts``, ``NotAPdf``, ``DocumentTooLarge``, ``EncryptedPdf``, ``BrokenPdf``.
    """
    reauthentication.confirm_step_up(person, password, otp, client_address)
    check_document(data)
    key, private = signing_ca.signer_key(f"{PERSON}:{person.id}")
    subject = signing_ca.person_subject(person.name, key.serial)
    return _sign(PERSON, person, None, subject, private, data, reason, location)


def seal_document(person: Person, enterprise_id: str, data: bytes, reason: str | None,
                  password: str | None, otp: str | None,
                  client_address: str | None) -> tuple[Signature, bytes]:
    """The enterprise's seal on ``data``, by a member with the ``seal`` scope (the legal
    representative has it). Raises ``NotFound`` (not a member), ``EnterpriseNotVerified``,
    ``ScopeMissing``, then what ``sign_document`` raises."""
    enterprise, _member = enterprises.require_scope(person.id, enterprise_id, SEAL)
    reauthentication.confirm_step_up(person, password, otp, client_address)
    check_document(data)
    _key, private = signing_ca.signer_key(f"{ENTERPRISE}:{enterprise.id}")
    subject = signing_ca.enterprise_subject(enterprise.name, enterprises.uscc_of(enterprise))
    return _sign(ENTERPRISE, person, enterprise.id, subject, private, data, reason, None)


def _sign(kind, person, enterprise_id, subject, private, data, reason, location):
    ca, _ = signing_ca.ensure_ca()
    issued = signing_ca.issue_signature_certificate(ca, subject, private)
    signature_id = new_id()
    signed = sign_pdf(data, issued, f"Signature-{signature_id}", reason, location)
    record = Signature(id=signature_id, kind=kind, person_id=person.id,
                       enterprise_id=enterprise_id, original_sha256=sha256(data),
                       document_sha256=sha256(signed), certificate_serial=issued.serial,
                       ca_generation=ca.generation, signed_at=clock.now())
    db.session.add(record)
    refs = {"signature": record.id, "kind": kind, "signer": person.id,
            "before": record.original_sha256, "after": record.document_sha256,
            "certificate_serial": record.certificate_serial}
    if enterprise_id:
        refs["enterprise"] = enterprise_id
    audit.record("document-signed" if kind == PERSON else "document-sealed", **refs)
    db.session.flush()
    return record, signed


def my_signatures(person_id: str) -> list[Signature]:
    """What the resident signed, and sealed for enterprises, newest first."""
    return list(db.session.scalars(select(Signature).where(Signature.person_id == person_id)
                                   .order_by(Signature.signed_at.desc(), Signature.id)))


def evidence(document_sha256: str) -> dict:
    """``{signed_at, kind, certificate_serial}`` of the signature that made this document;
    ``NotFound`` for any other hash. Names nobody."""
    document_sha256 = (document_sha256 or "").lower()
    if len(document_sha256) != 64 or any(c not in "0123456789abcdef" for c in document_sha256):
        raise NotFound()
    record = db.session.scalars(select(Signature).where(
        Signature.document_sha256 == document_sha256).order_by(Signature.signed_at)
        .limit(1)).first()
    if record is None:
        raise NotFound()
    return {"signed_at": record.signed_at, "kind": record.kind,
            "certificate_serial": record.certificate_serial}
