"""Zero-material handling (零材料): after a scan, a service point asks for the holder's
materials; the holder sees who asks for what and why, and approves or denies; once approved,
that service point alone fetches exactly those credentials, each as a presentation bound to
it, until the request expires.

Every rule is decided here, by the clock and the stored ``expires_at``: a request past it is
expired whatever its answer, and nothing is shared from it. Revoked or expired credentials
are never shared: what is handed over is chosen again at each fetch.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from core import audit, changes, clock, metrics
from core.errors import NotFound, ValidationProblem
from core.extensions import db
from core.ids import new_id
from codes import scans, service_points
from codes.models import ServicePoint
from identity import service as identity
from delegation import answering, shown_codes
from wallet import service
from wallet.errors import AlreadyAnswered, ScanNotPerson, UnknownType
from materials.models import APPROVED, DENIED, EXPIRED, PENDING, MaterialRequest, answerers
from wallet.models import CredentialType, Issuer

MAX_TYPES = 20


def _holder_of(person_id: str, scan_id: str) -> str:
    # Hook (identity.shown_codes): after an enterprise's code was scanned, its wallet.
    enterprise = shown_codes.enterprise_of_scan(scan_id)
    if enterprise is not None:
        return enterprise.uscc_index
    person = identity.get_person(person_id)
    if person is None:
        raise NotFound()
    return person.id_number_index


def _answerable(person_id: str, memberships=None):
    return answering.answerable(person_id, MaterialRequest.person_id, MaterialRequest.scan_id,
                                  memberships)


def request_materials(service_point_id: str, scan_id: str, types: list[str]) -> MaterialRequest:
    """Ask the holder of a live scan (made by this service point) for credentials of ``types``.

    Returns the pending request, with ``missing`` the types the holder has no valid credential
    of. Raises ``NotFound`` (unknown, expired or another service point's scan),
    ``UnknownType``, ``ValidationProblem``.
    """
    scan = scans.get_scan(scan_id, service_point_id)
    if scan is None:
        raise NotFound()
    if scan.person_id is None:
        raise ScanNotPerson()
    types = list(dict.fromkeys(types))
    if not 1 <= len(types) <= MAX_TYPES:
        raise ValidationProblem({"types": [f"Ask for 1 to {MAX_TYPES} types."]})
    known = set(db.session.scalars(select(CredentialType.vct).where(CredentialType.vct.in_(types))))
    if set(types) - known:
        raise UnknownType("Unknown credential types: %(types)s.",
                          params={"types": ", ".join(t for t in types if t not in known)})
    held = service.usable_credentials(_holder_of(scan.person_id, scan.id), types)
    now = clock.now()
    request = MaterialRequest(
        id=new_id(), consent_id=new_id(), scan_id=scan.id, service_point_id=service_point_id,
        person_id=scan.person_id, purpose=scan.purpose, types=types,
        missing=[t for t in types if t not in held], status=PENDING, created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["MATERIAL_REQUEST_TTL_SECONDS"]))
    db.session.add(request)
    db.session.flush()
    audit.record("request", request=request.id, scan=scan.id, service_point=service_point_id,
                 person=scan.person_id, types=types)
    return request


def status_of(request: MaterialRequest) -> str:
    if request.status in (PENDING, APPROVED) and clock.aware(request.expires_at) <= clock.now():
        return EXPIRED
    return request.status


def pending_consents(person_id: str, memberships=None) -> list[tuple[MaterialRequest, str]]:
    """The person's unanswered, unexpired requests, newest first, with the asker's name
    (``memberships`` as ``delegation.answering.answerable`` takes them)."""
    rows = db.session.execute(
        select(MaterialRequest, ServicePoint.name)
        .join(ServicePoint, ServicePoint.id == MaterialRequest.service_point_id)
        # Hook (identity.shown_codes): also those of people I act for, and enterprises' ones.
        .where(_answerable(person_id, memberships), MaterialRequest.status == PENDING,
               MaterialRequest.expires_at > clock.now())
        .order_by(MaterialRequest.created_at.desc(), MaterialRequest.id)).all()
    return [(request, name) for request, name in rows]


def answer(person_id: str, consent_id: str, approve: bool) -> None:
    """The holder's answer. The first answer wins: ``AlreadyAnswered`` after it;
    ``NotFound`` for someone else's request or an expired one."""
    decision = APPROVED if approve else DENIED
    # One conditional UPDATE decides, so that of two answers racing exactly one lands.
    answered = db.session.execute(
        update(MaterialRequest)
        .where(MaterialRequest.consent_id == consent_id, _answerable(person_id),
               MaterialRequest.status == PENDING, MaterialRequest.expires_at > clock.now())
        .values(status=decision, answered_at=clock.now())
        .returning(MaterialRequest.id, MaterialRequest.person_id, MaterialRequest.scan_id)
        .execution_options(synchronize_session=False)).first()
    if answered is None:
        request = db.session.scalars(select(MaterialRequest).where(
            MaterialRequest.consent_id == consent_id, _answerable(person_id))).first()
        if request is None or status_of(request) == EXPIRED:
            raise NotFound()
        raise AlreadyAnswered()
    changes.mark(db.session, answerers(answered.person_id, answered.scan_id))
    audit.record("consent", request=answered.id, person=person_id, decision=decision)
    metrics.CONSENTS.labels(outcome=decision).inc()


def request_state(service_point_id: str, scan_id: str, request_id: str) -> dict:
    """``{status}`` and, once approved and until it expires, ``materials``: for each asked type
    the holder validly holds, a presentation of the whole credential bound to this service
    point (``aud`` its client id, ``nonce`` the request id). ``NotFound`` for anyone else."""
    request = db.session.scalars(select(MaterialRequest).where(
        MaterialRequest.id == request_id, MaterialRequest.scan_id == scan_id,
        MaterialRequest.service_point_id == service_point_id)).first()
    if request is None:
        raise NotFound()
    state = status_of(request)
    if state != APPROVED:
        return {"status": state}
    point = service_points.get_service_point(service_point_id)
    held = service.usable_credentials(_holder_of(request.person_id, request.scan_id), request.types)
    materials = [{"type": vct, "credential": service.present(credential, None, audience=point.client_id,
                                                              nonce=request.id)["presentation"]}
                 for vct, credential in held.items()]
    _record_share(request, held)
    return {"status": state, "materials": materials,
            "missing": [t for t in request.types if t not in held],
            "expires_at": request.expires_at}


def _record_share(request: MaterialRequest, held: dict) -> None:
    """Record on the scan and in the audit log, once per request, what was handed over."""
    if not held:
        return
    now = clock.now()
    first = db.session.execute(
        update(MaterialRequest).where(MaterialRequest.id == request.id, MaterialRequest.shared_at.is_(None))
        .values(shared_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not first:
        return
    scan = scans.get_scan(request.scan_id)
    db.session.refresh(scan, with_for_update=True)  # other requests of the scan append too
    issuer_ids = {c.issuer_id for c in held.values()}
    names = dict(db.session.execute(select(Issuer.id, Issuer.name)
                                    .where(Issuer.id.in_(issuer_ids))).all())
    scan.shared = [*(scan.shared or []), *({"type": vct, "issuer": names[c.issuer_id],
                                            "request_id": request.id, "shared_at": clock.rfc3339(now)}
                                           for vct, c in held.items())]
    db.session.flush()
    audit.record("share", request=request.id, service_point=request.service_point_id,
                 person=request.person_id, credentials=sorted(c.id for c in held.values()))
