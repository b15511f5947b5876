"""Codes shown for someone else: an enterprise's code shown by a member, a person's code
shown by their proxy (亲情账号). The scan answers the subject and names who showed it.

The code itself is the ordinary one (same COSE format and subject handle); its kind says that
someone else shows it (``ENTERPRISE``, or ``PROXIED`` for a person's code shown by a proxy),
so a scan of it never passes for the subject's own code. Who showed it is noted in Redis under
its ``cti`` until it can no longer verify (``presenter:{<cti>}``); a note that Redis lost makes
the scan fail closed (``invalid-code``). so each presenter gets codes of their own: they are cached per
(subject, presenter) the way ``codes.service`` caches a person's own code, and a scan drops
that presenter's cached code. At the scan the presenter's right is checked again: a member
revoked, expired or without ``show-code``, or a proxy that has ended, makes the code invalid.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import select

from core import audit, clock
from core.extensions import db
from core.store import redis_client
from codes import service as codes
from codes.errors import CodeInvalid, SubjectSuspended
from codes.format import ENTERPRISE, PERSON, PROXIED, Claims, new_cti
from enterprises import service as enterprises
from identity import service as identity
from delegation.models import ACTIVE, Proxy, ScanPresenter
from enterprises.models import SHOW_CODE, Enterprise, EnterpriseMember


def _presenter_key(cti: bytes) -> str:
    return f"presenter:{{{cti.hex()}}}"


def _shown_key(handle: str, presenter: dict) -> str:
    return f"shown:{{{handle}}}:{presenter['person']}:{presenter.get('enterprise') or presenter.get('proxy')}"


def show_code(handle: str, kind: int, presenter: dict) -> codes.IssuedCode:
    """The code of ``handle`` as ``presenter`` (``{person, enterprise}`` or ``{person, proxy}``)
    shows it: the cached one until its ``refresh_after``, else a new one noted as theirs.
    ``kind`` is ``ENTERPRISE`` or ``PROXIED``, never ``PERSON``: a code that someone else
    shows must say so (see ``shown_by``)."""
    if kind not in (ENTERPRISE, PROXIED):
        raise ValueError("a code shown for someone else is ENTERPRISE or PROXIED")
    r = redis_client()
    key = _shown_key(handle, presenter)
    now = clock.timestamp()
    raw = r.get(key)
    if raw is not None:
        try:
            cached = codes.IssuedCode(**json.loads(raw))
        except (TypeError, ValueError):
            cached = None
        if cached is not None and cached.usable(now):
            return cached
    cti = new_cti()
    issued = codes.issue_code(handle, kind, cti)
    leeway = current_app.config["CODE_LEEWAY_SECONDS"]
    r.set(_presenter_key(cti), json.dumps(presenter), ex=max(1, int(issued.exp + leeway - now) + 1))
    r.set(key, json.dumps(asdict(issued)), px=max(1, int((issued.refresh_after - now) * 1000)))
    return issued


@dataclass(frozen=True)
class Shown:
    """A scanned code that someone showed for its subject."""

    subject_kind: str        # "enterprise" or "person"
    person: object           # the scan's person: the member (enterprise) or the principal (proxy)
    subject: dict            # the answer to the scanner, with ``shown_by``
    presenter_id: str
    enterprise_id: str | None
    proxy_id: str | None
    cache_key: str


def _active_person(person, suspended_is_invalid: bool = False):
    if person is None or person.status not in ("active", "suspended"):
        raise CodeInvalid()
    if person.status == "suspended":
        raise CodeInvalid() if suspended_is_invalid else SubjectSuspended()
    return person


def shown_by(claims: Claims) -> Shown | None:
    """Who showed this code for its subject, checked again now; None for a person's code that
    they show themselves. Raises ``CodeInvalid`` (a code shown for someone whose note is gone,
    a presenter no longer allowed) or ``SubjectSuspended`` (an enterprise no longer verified, a
    suspended principal)."""
    if claims.kind == PERSON:
        return None
    raw = redis_client().get(_presenter_key(claims.cti))
    if raw is None:
        raise CodeInvalid()  # lost or never written: never fall back to the subject's own code
    try:
        presenter = json.loads(raw)
    except ValueError:
        raise CodeInvalid() from None
    if not isinstance(presenter, dict):
        raise CodeInvalid()
    if claims.kind == ENTERPRISE:
        return _enterprise_shown(claims, presenter)
    return _proxy_shown(claims, presenter)


def _enterprise_shown(claims: Claims, presenter: dict) -> Shown:
    row = db.session.execute(
        select(Enterprise, EnterpriseMember)
        .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
        .where(Enterprise.id == presenter.get("enterprise"), Enterprise.handle == claims.sub,
               EnterpriseMember.person_id == presenter.get("person"))).first()
    if row is None or not enterprises._live(row[1]):
        raise CodeInvalid()
    enterprise, member = row
    if not enterprises.is_verified(enterprise):
        raise SubjectSuspended()
    if SHOW_CODE not in enterprises.scopes_of(enterprise, member):
        raise CodeInvalid()
    person = _active_person(identity.get_person(member.person_id), suspended_is_invalid=True)
    subject = {"kind": "enterprise", "display_name": enterprise.name, "assurance_level": 2,
               "shown_by": {"display_name": identity.display_name(person),
                            "assurance_level": person.assurance_level, "role": member.role}}
    return Shown("enterprise", person, subject, person.id, enterprise.id, None,
                 _shown_key(claims.sub, presenter))


def _proxy_shown(claims: Claims, presenter: dict) -> Shown:
    if claims.kind != PROXIED:
        raise CodeInvalid()
    proxy = db.session.get(Proxy, presenter.get("proxy") or "")
    if proxy is None or proxy.status != ACTIVE or proxy.proxy_id != presenter.get("person"):
        raise CodeInvalid()
    principal = _active_person(identity.get_person(proxy.principal_id))
    if principal.handle != claims.sub:
        raise CodeInvalid()
    acting = _active_person(identity.get_person(proxy.proxy_id), suspended_is_invalid=True)
    subject = {"kind": "person", "display_name": identity.display_name(principal),
               "assurance_level": principal.assurance_level,
               "shown_by": {"display_name": identity.display_name(acting),
                            "assurance_level": acting.assurance_level, "relation": proxy.relation}}
    return Shown("person", principal, subject, acting.id, None, proxy.id,
                 _shown_key(claims.sub, presenter))


def record_shown(scan, shown: Shown) -> None:
    """Note on the scan who showed the code (flushed, audited), and drop their cached code."""
    db.session.add(ScanPresenter(scan_id=scan.id, enterprise_id=shown.enterprise_id,
                                 presenter_id=shown.presenter_id, proxy_id=shown.proxy_id))
    db.session.flush()
    refs = {"enterprise": shown.enterprise_id} if shown.enterprise_id else {"proxy": shown.proxy_id}
    audit.record("scan-shown-by", scan=scan.id, person=shown.presenter_id, **refs)
    redis_client().delete(shown.cache_key)


def enterprise_of_scan(scan_id: str) -> Enterprise | None:
    """The enterprise whose code this scan read, or None for a person's code."""
    return db.session.scalars(
        select(Enterprise).join(ScanPresenter, ScanPresenter.enterprise_id == Enterprise.id)
        .where(ScanPresenter.scan_id == scan_id)).first()
