"""Scanning: a service point presents a code for a purpose; the platform says who it is.

The checks run in this order, each with its own answer, so that a scanner can tell what went
wrong and a misdirected scan does not burn the code:

1. the service point may scan for the purpose → else 403 ``purpose-not-allowed`` (that it is
   active, the bearer check saw already: ``app.auth``, 401 ``client-disabled``; the scan
   route's check reads its worker's snapshot of the service point, so the write checks the
   row again and answers the same)
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

A person's own signed code, where group commit is on, is handed to ``codes.scan_writer``
after step 4: the batch takes steps 5 to 7 for many scans at once (on PostgreSQL one
statement reads the people and writes the scans, and its unique nonce is the gate of step 6)
and answers each. Every other scan (an offline
code, a code shown by someone else, group commit off) takes them here, in the request's
unit of work. ``scan_in_batch`` is the same for a scan answered ahead of Flask
(``codes.fast_path``), which has no unit of work: it takes only the scans of a batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit, clock, metrics, signals, unit_of_work
from core.auth import check_client_state
from core.extensions import db
from core.ids import OPAQUE_ID
from core.store import redis_client
from codes import devices, keys, scan_writer, service
from codes.errors import CodeAlreadyUsed, CodeExpired, CodeInvalid, CodeMalformed, PurposeNotAllowed
from codes.format import PERSON, Claims, ExpiredCode, InvalidCode, MalformedCode, check_expiry, parse_code
from codes.models import Scan, ServicePoint
from codes.scan_rules import person_subject
from codes.service_points import get_service_point, may_scan
from identity import service as identity

ONLINE = "online"
OFFLINE = "offline"


@dataclass(frozen=True)
class ScanResult:
    scan_id: str
    expires_at: datetime
    subject: dict

    def as_body(self) -> dict:
        """The scan route's answer."""
        return {"scan_id": self.scan_id, "subject": self.subject,
                "expires_at": clock.rfc3339(self.expires_at)}


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


def scan_code(point, text: str, purpose: str) -> ScanResult:
    """Accept a code scanned by a service point for a purpose, and record the scan.

    ``point``: the service point's row, or the scan route's snapshot of it (``PointState``);
    the write checks the row again. Returns the scan's id, until when it lives, and the
    subject as the scanner may see it. Raises ``PurposeNotAllowed``, ``CodeMalformed``,
    ``CodeInvalid``, ``CodeExpired``, ``SubjectSuspended`` or ``CodeAlreadyUsed``, in the
    order of the module docstring (and ``ClientDisabled``/``RevokedToken`` for a service
    point disabled since its snapshot).
    """
    return _counted_scan(point, text, purpose, scan_writer.writer(), batch_only=False)


def scan_in_batch(point, text: str, purpose: str) -> ScanResult | None:
    """``scan_code`` for a scan answered ahead of Flask (``codes.fast_path``), which has no
    unit of work of its own: a scan the group commit writes, done as ``scan_code`` does it
    (its result, or its problem raised); None, with nothing written or counted, for any
    other (group commit off, an offline code, a code shown for someone else), which the
    route then takes."""
    group = scan_writer.writer()
    if group is None or devices.is_device_code(text):
        return None
    return _counted_scan(point, text, purpose, group, batch_only=True)


def _counted_scan(point, text: str, purpose: str, group, batch_only: bool) -> ScanResult | None:
    with metrics.outcome(metrics.SCANS, ok="accepted") as event:
        if not may_scan(point, purpose):
            raise PurposeNotAllowed()
        expected = group.expect() if group is not None else None
        try:
            result = _scan(point, text, purpose, group, expected, batch_only)
        finally:
            if expected is not None:
                expected.done()
        if result is None:
            event.skip()
        return result


def _scan(point, text: str, purpose: str, group, expected, batch_only: bool) -> ScanResult | None:
    """The steps after the purpose; with ``batch_only`` None (nothing written) for a scan
    that is not the group commit's."""
    if devices.is_device_code(text):
        if batch_only:
            return None
        accepted = devices.check_device_code(text)
        _check_point_now(point)
        person = identity.get_person(accepted.person_id)
        subject = person_subject(person)
        devices.spend_device_step(accepted)
        return _record(point.id, person, subject, purpose, OFFLINE,
                       f"{accepted.device_id}:{accepted.step}")
    claims = _check_signed_code(text)
    if batch_only and claims.kind != PERSON:
        return None  # shown for someone else: its checks read and write in the request
    # Enterprises and family proxies (delegation provides the resolver): a code shown for
    # someone else names its subject and who showed it. Every enterprise code is one.
    shown = signals.shown_by(claims)
    if shown is None and claims.kind != PERSON:
        raise CodeInvalid()
    if group is not None and shown is None:
        # The batch commits apart from the request: only a request that has written nothing
        # hands its scan over, and it holds no transaction while it waits (what it needs of
        # a service point's row is taken first: ending the transaction expires the row).
        point_id, generation = point.id, point.generation
        if unit_of_work.release_if_read_only():
            return _scan_in_batch(group, expected, point_id, generation, claims, purpose)
    if batch_only:
        return None
    _check_point_now(point)
    if shown is not None:
        person, subject = shown.person, shown.subject
    else:
        person = identity.get_person_by_handle(claims.sub)
        subject = person_subject(person)
    spend_nonce(claims.cti, claims.exp)
    return _record(point.id, person, subject, purpose, ONLINE, claims.cti.hex(), shown)


def _check_point_now(point) -> None:
    """The service point's row, read now, still honours the token the snapshot came from."""
    check_client_state(get_service_point(point.id), point.generation)


def _scan_in_batch(group, expected, point_id: str, generation: int, claims: Claims,
                   purpose: str) -> ScanResult:
    """Steps 5 to 7 in the next group commit; answered after it."""
    cfg = current_app.config
    now = clock.now()
    pending = scan_writer.Pending(
        row=scan_writer.new_row(
            service_point_id=point_id, subject_kind="person", purpose=purpose,
            code_kind=ONLINE, created_at=now, nonce=claims.cti.hex(),
            expires_at=now + timedelta(seconds=cfg["SCAN_TTL_SECONDS"])),
        handle=claims.sub, generation=generation)
    subject = group.write(pending, cfg["SCAN_COMMIT_TIMEOUT_SECONDS"], expected)
    return ScanResult(pending.row["id"], pending.row["expires_at"], subject)


def _record(service_point_id: str, person, subject: dict, purpose: str, code_kind: str,
            nonce: str, shown=None) -> ScanResult:
    """Write the scan in the request's unit of work (flushed)."""
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
    return ScanResult(scan.id, scan.expires_at, subject)


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

