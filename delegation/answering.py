"""Who may answer a consent request, in one place: the holder, whoever acts for the holder
as an active proxy, and, after an enterprise's code was scanned, that enterprise's live
members with ``consent`` (of a verified enterprise) instead of the holder."""
from __future__ import annotations

from sqlalchemy import and_, exists, or_, select, union

from core import changes
from core.extensions import db
from delegation import proxies
from delegation.models import Proxy, ScanPresenter
from enterprises import service as enterprises
from enterprises.models import CONSENT, Enterprise, EnterpriseMember
from identity import service as identity


def answerable(person_id: str, person_column, scan_column, memberships=None):
    """A condition on material requests (their person and scan columns): those this person
    may answer. Their own and those of the people they act for as an active proxy, except
    requests after an enterprise's code was scanned, which go to the enterprise's live members
    with ``consent`` (of a verified enterprise) instead. ``memberships``: the person's
    ``enterprises.my_enterprises``, when the caller has read them already."""
    enterprise_scan = exists().where(ScanPresenter.scan_id == scan_column,
                                     ScanPresenter.enterprise_id.is_not(None))
    personal = and_(or_(person_column == person_id,
                        person_column.in_(proxies.principals_clause(person_id))), ~enterprise_scan)
    if memberships is None:
        memberships = enterprises.my_enterprises(person_id)
    mine = [e.id for e, m in memberships
            if CONSENT in enterprises.scopes_of(e, m) and enterprises.is_verified(e)]
    if not mine:
        return personal
    return or_(personal, scan_column.in_(
        select(ScanPresenter.scan_id).where(ScanPresenter.enterprise_id.in_(mine))))


def on_behalf_of(person_id: str, requests) -> dict[str, dict]:
    """For the material requests among ``requests`` that the person answers for someone else:
    request id → ``{kind, display_name}`` (an enterprise's name, or the principal masked)."""
    from identity.models import Person

    scan_ids = {r.scan_id for r in requests}
    names = dict(db.session.execute(
        select(ScanPresenter.scan_id, Enterprise.name)
        .join(Enterprise, Enterprise.id == ScanPresenter.enterprise_id)
        .where(ScanPresenter.scan_id.in_(scan_ids))).all()) if scan_ids else {}
    others = {r.person_id for r in requests if r.person_id != person_id and r.scan_id not in names}
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(others)))} if others else {}
    found = {}
    for r in requests:
        if r.scan_id in names:
            found[r.id] = {"kind": "enterprise", "display_name": names[r.scan_id]}
        elif r.person_id in people:
            found[r.id] = {"kind": "person", "display_name": identity.display_name(people[r.person_id])}
    return found


def answerers(person_id: str, scan_id: str) -> changes.Touch:
    """Whose views a change to a consent request reaches: everyone ``answerable`` could
    admit for it, taken widely (every proxy of the holder and every member of an enterprise
    whose code was scanned, whatever their state or scopes); one query."""
    return changes.Touch(persons=(person_id,), queries=(union(
        select(Proxy.proxy_id).where(Proxy.principal_id == person_id),
        select(EnterpriseMember.person_id)
        .join(ScanPresenter, ScanPresenter.enterprise_id == EnterpriseMember.enterprise_id)
        .where(ScanPresenter.scan_id == scan_id)),))
