"""Scanning: a service point presents a code for a purpose; the platform says who it is.

The checks run in this order, each with its own answer, so that a scanner can tell what went
wrong and a misdirected scan does not burn the code:

1. the service point may scan for the purpose → else 403 ``purpose-not-allowed`` (that it is
   active, the bearer check saw already: ``app.auth``, 401 ``client-disabled``)
2. the text parses (``OC1:`` COSE_Sign1, or an ``OCD1:`` device code) → else 400 ``malformed-code``
3. the signature (or the device's one-time password) verifies → else 422 ``invalid-code``
4. it has not expired (``exp`` + leeway) → else 422 ``code-expired``
5. the subject exists → else 422 ``invalid-code``; is not suspended → else 403 ``subject-suspended``
6. the code is spent, once across all workers → else 409 ``code-already-used``
7. the scan is recorded; the holder's cached code is dropped, so the phone shows a new one.

A signed code is spent with ``SET nonce:{<cti>} 1 NX EX <until exp + leeway>`` in Redis; if
Redis cannot be reached the scan fails closed (503), never unchecked. Redis is only the fast
gate: the scan row carries the code's nonce (``Scan.nonce``) under a unique constraint, so a
code is accepted at most once even after Redis lost its data (a restart without persistence,
a failover to an empty replica). An offline code's step is spent by its device row as well.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit, clock, metrics, signals
from core.extensions import db
from core.ids import OPAQUE_ID
from core.store import redis_client
from codes import devices, keys, service
from codes.errors import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeInvalid,
    CodeMalformed,
    PurposeNotAllowed,
    SubjectSuspended,
)
from codes.format import PERSON, Claims, ExpiredCode, InvalidCode, MalformedCode, check_expiry, parse_code
from codes.models import Scan, ServicePoint
from codes.service_points import get_service_point, may_scan
from identity import service as identity

ONLINE = "online"
OFFLINE = "offline"


@dataclass(frozen=True)
class ScanResult:
    scan: Scan
    subject: dict


def _check_signed_code(text: str) -> Claims:
    """The claims of a signed code that verifies and has not expired; raises the problems."""
    try:
        signed = parse_code(text)
    except MalformedCode:
        raise CodeMalformed() from None
    except InvalidCode:
        raise CodeInvalid() from None
    try:
        claims, retired_at = keys.verify_signature(signed)
    except InvalidCode:
        raise CodeInvalid() from None
    cfg = current_app.config
    ttl, leeway = cfg["CODE_TTL_SECONDS"], cfg["CODE_LEEWAY_SECONDS"]
    now = clock.timestamp()
    # No key signs past its retirement, and none verifies once the JWKS has dropped it (a
    # worker's snapshot of the keys may be up to a second old); no code lives past the TTL.
    if retired_at is not None and (claims.exp > retired_at + ttl or now > retired_at + ttl + leeway):
        raise CodeInvalid()
    if claims.exp > now + ttl + leeway:
        raise CodeInvalid()
    try:
        check_expiry(claims, now, leeway)
    except ExpiredCode:
        raise CodeExpired() from None
    return claims


def spend_nonce(cti: bytes, exp: int) -> None:
    """Mark a signed code used until it can no longer verify. ``CodeAlreadyUsed`` if it was."""
    leeway = current_app.config["CODE_LEEWAY_SECONDS"]
    seconds = max(1, int(exp + leeway - clock.timestamp()) + 1)
    if not redis_client().set(f"nonce:{{{cti.hex()}}}", 1, nx=True, ex=seconds):
        raise CodeAlreadyUsed()


def _person_subject(person) -> dict:
    if person is None:
        raise CodeInvalid()
    if person.status == "suspended":
        raise SubjectSuspended()
    if person.status != "active":
        raise CodeInvalid()
    return {"kind": "person", "display_name": identity.display_name(person),
            "assurance_level": person.assurance_level}


@metrics.counted(metrics.SCANS, ok="accepted")
def scan_code(service_point_id: str, text: str, purpose: str) -> ScanResult:
    """Accept a code scanned by a service point for a purpose, and record the scan (flushed).

    Returns the scan and the subject as the scanner may see it. Raises ``PurposeNotAllowed``,
    ``CodeMalformed``, ``CodeInvalid``, ``CodeExpired``, ``SubjectSuspended`` or
    ``CodeAlreadyUsed``, in the order of the module docstring.
    """
    if not may_scan(get_service_point(service_point_id), purpose):
        raise PurposeNotAllowed()
    shown = None
    if devices.is_device_code(text):
        accepted = devices.check_device_code(text)
        person = identity.get_person(accepted.person_id)
        subject = _person_subject(person)
        devices.spend_device_step(accepted)
        code_kind, nonce = OFFLINE, f"{accepted.device_id}:{accepted.step}"
    else:
        claims = _check_signed_code(text)
        # Enterprises and family proxies (delegation provides the resolver): a code shown for
        # someone else names its subject and who showed it. Every enterprise code is one.
        shown = signals.shown_by(claims)
        if shown is not None:
            person, subject = shown.person, shown.subject
        elif claims.kind != PERSON:
            raise CodeInvalid()
        else:
            person = identity.get_person_by_handle(claims.sub)
            subject = _person_subject(person)
        spend_nonce(claims.cti, claims.exp)
        code_kind, nonce = ONLINE, claims.cti.hex()
    now = clock.now()
    scan = Scan(service_point_id=service_point_id,
                subject_kind=shown.subject_kind if shown is not None else "person", person_id=person.id,
                purpose=purpose, code_kind=code_kind, created_at=now,
                expires_at=now + timedelta(seconds=current_app.config["SCAN_TTL_SECONDS"]),
                shared=[], nonce=nonce)
    db.session.add(scan)
    _flush_once(scan)
    audit.record("scan", scan=scan.id, service_point=service_point_id, person=person.id)
    if shown is not None:
        signals.record_shown(scan, shown)
    elif code_kind == ONLINE:
        service.forget_current_code(person.handle, PERSON)
    return ScanResult(scan, subject)


def _flush_once(scan: Scan) -> None:
    """Write the scan row; ``CodeAlreadyUsed`` when a scan of the same code is recorded already
    (its nonce is unique: the promise that outlives Redis). The request's transaction is then
    rolled back whole: nothing else of this scan was written."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        if "nonce" not in str(exc.orig):
            raise
        raise CodeAlreadyUsed() from None


def get_scan(scan_id: str, service_point_id: str | None = None) -> Scan | None:
    """A scan by id; with ``service_point_id``, only if that service point made it and the
    scan still lives (for follow-up requests: materials, a face check)."""
    if OPAQUE_ID.fullmatch(scan_id or "") is None:
        return None  # not an id we make (a NUL in it would even upset PostgreSQL)
    scan = db.session.get(Scan, scan_id)
    if scan is None or service_point_id is None:
        return scan
    if scan.service_point_id != service_point_id or clock.aware(scan.expires_at) <= clock.now():
        return None
    return scan


def scans_of(person_id: str, limit: int = 50) -> list[tuple[Scan, str]]:
    """The person's scans, newest first, each with its service point's name."""
    rows = db.session.execute(
        select(Scan, ServicePoint.name)
        .join(ServicePoint, ServicePoint.id == Scan.service_point_id)
        .where(Scan.person_id == person_id)
        .order_by(Scan.created_at.desc(), Scan.id.desc())
        .limit(limit)).all()
    return [(scan, name) for scan, name in rows]

