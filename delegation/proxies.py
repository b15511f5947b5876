"""Family proxies (亲情账号, 代办): one resident acts for another.

The inviter asks to act for the invited (``proxy_id`` acts for ``principal_id``). The invited
accepts; for a minor (under 18 by the birth date of the ID number) a guardian accepts on the
child's behalf: a resident holding a valid ``birth-certificate`` of the child that names them
as mother or father, or the household head of the child's valid ``household-register`` whose
own valid register shows them head of the household at the same address. The inviter may be
that guardian.

At most ``MAX_PROXIES`` relations, invited or active, act for a person, and a person acts for
at most as many: both rows are locked while counting, so two invitations at once cannot both
pass the limit. Either side ends a relation. Every act goes into the audit chain with both
people's ids. Services flush; the request commits.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select

from core import audit, clock
from core.errors import NotFound, Problem, ValidationProblem
from core.extensions import db
from core.ids import OPAQUE_ID
from identity import service as identity
from delegation.models import ACTIVE, ENDED, INVITED, RELATIONS, Proxy
from identity.id_numbers import validate_id_number
from identity.models import Person

MAX_PROXIES = 5
ADULT_AGE = 18
_HEAD_RELATIONS = frozenset({"户主", "本人", "head", "self"})


class NotAProxy(Problem):
    type = "not-a-proxy"
    status = 403
    title = "You do not act for this person"


class TooManyProxies(Problem):
    type = "too-many-proxies"
    status = 409
    title = "A person may have at most 5 proxies and act for at most 5 people"


class AlreadyInvited(Problem):
    type = "already-invited"
    status = 409
    title = "You already act for this person, or have invited them"


class GuardianRequired(Problem):
    type = "guardian-required"
    status = 403
    title = "A minor's guardian accepts on their behalf"


class NotInvited(Problem):
    type = "not-invited"
    status = 409
    title = "This proxy is not waiting to be accepted"


def _age(birthdate: date, today: date) -> int:
    return today.year - birthdate.year - ((today.month, today.day) < (birthdate.month, birthdate.day))


def is_minor(person: Person) -> bool:
    return _age(person.birthdate, clock.now().date()) < ADULT_AGE


def _open_count(column, person_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Proxy).where(
        column == person_id, Proxy.status.in_((INVITED, ACTIVE))))


def invite(person_id: str, id_number, relation) -> Proxy:
    """Invite the resident with this ID number, so that the caller acts for them.

    Raises ``ValidationProblem`` (a bad relation or ID number, nobody registered with it, the
    caller's own), ``TooManyAttempts`` (the caller looked up too many ID numbers in the
    window), ``AlreadyInvited`` and ``TooManyProxies``."""
    errors = {}
    if relation not in RELATIONS:
        errors["relation"] = [f"Must be one of: {', '.join(RELATIONS)}."]
    try:
        number = validate_id_number(id_number)
    except ValueError as exc:
        errors["id_number"] = [str(exc)]
        number = None
    if errors:
        raise ValidationProblem(errors)
    principal = identity.find_resident_for(person_id, number)
    if principal is None:
        raise ValidationProblem({"id_number": ["No resident has registered with this ID number."]})
    if principal.id == person_id:
        raise ValidationProblem({"id_number": ["You cannot act for yourself."]})
    # Lock both people (in a fixed order) so that concurrent invitations count one by one.
    db.session.execute(select(Person.id).where(Person.id.in_(sorted({person_id, principal.id})))
                       .order_by(Person.id).with_for_update())
    if db.session.scalar(select(Proxy.id).where(
            Proxy.proxy_id == person_id, Proxy.principal_id == principal.id,
            Proxy.status.in_((INVITED, ACTIVE)))) is not None:
        raise AlreadyInvited()
    if _open_count(Proxy.proxy_id, person_id) >= MAX_PROXIES:
        raise TooManyProxies("You already act for (or have invited) 5 people.")
    if _open_count(Proxy.principal_id, principal.id) >= MAX_PROXIES:
        raise TooManyProxies("This person already has 5 proxies (or invitations).")
    proxy = Proxy(proxy_id=person_id, principal_id=principal.id, relation=relation,
                  status=INVITED, created_at=clock.now())
    db.session.add(proxy)
    db.session.flush()
    audit.record("proxy-invite", proxy=proxy.id, person=person_id, principal=principal.id)
    return proxy


def _get(proxy_id: str, lock: bool = False) -> Proxy:
    if OPAQUE_ID.fullmatch(proxy_id or "") is None:
        raise NotFound()
    query = select(Proxy).where(Proxy.id == proxy_id)
    proxy = db.session.scalars(query.with_for_update() if lock else query).first()
    if proxy is None:
        raise NotFound()
    return proxy


def accept(person_id: str, proxy_id: str) -> Proxy:
    """Accept an invitation: the invited adult, or a minor's proven guardian.

    Raises ``NotFound``, ``NotInvited`` (already accepted or ended), ``GuardianRequired`` (a
    minor accepting), ``NotAProxy`` (anyone else)."""
    proxy = _get(proxy_id, lock=True)
    principal = identity.get_person(proxy.principal_id)
    caller = identity.get_person(person_id)
    if caller is None or principal is None:
        raise NotAProxy()
    minor = is_minor(principal)
    if person_id == principal.id:
        if minor:
            raise GuardianRequired()
    elif not (minor and is_guardian(caller, principal)):
        raise NotAProxy("Only the invited person, or a minor's guardian, accepts.")
    if proxy.status != INVITED:
        raise NotInvited()
    proxy.status, proxy.accepted_by, proxy.accepted_at = ACTIVE, person_id, clock.now()
    db.session.flush()
    audit.record("proxy-accept", proxy=proxy.id, person=proxy.proxy_id,
                 principal=proxy.principal_id, by=person_id)
    return proxy


def end(person_id: str, proxy_id: str) -> None:
    """Either side (or the guardian who accepted) ends the relation; ending twice is fine.
    ``NotFound``, ``NotAProxy``."""
    proxy = _get(proxy_id, lock=True)
    if person_id not in (proxy.proxy_id, proxy.principal_id, proxy.accepted_by):
        raise NotAProxy()
    if proxy.status == ENDED:
        return
    proxy.status, proxy.ended_by, proxy.ended_at = ENDED, person_id, clock.now()
    db.session.flush()
    audit.record("proxy-end", proxy=proxy.id, person=proxy.proxy_id,
                 principal=proxy.principal_id, by=person_id)


def proxies_of(person_id: str) -> list[tuple[Proxy, Person, Person]]:
    """Every relation in which the person acts or is acted for, newest first, with both people."""
    from sqlalchemy.orm import aliased

    acting, principal = aliased(Person), aliased(Person)
    return db.session.execute(
        select(Proxy, acting, principal)
        .join(acting, acting.id == Proxy.proxy_id).join(principal, principal.id == Proxy.principal_id)
        .where(or_(Proxy.proxy_id == person_id, Proxy.principal_id == person_id))
        .order_by(Proxy.created_at.desc(), Proxy.id)).all()


def acting_for(person_id: str, proxy_id: str) -> tuple[Proxy, Person]:
    """The active relation in which the caller acts, and the person they act for.
    ``NotFound`` for an unknown id, ``NotAProxy`` otherwise."""
    proxy = _get(proxy_id)
    if proxy.proxy_id != person_id or proxy.status != ACTIVE:
        raise NotAProxy()
    principal = identity.get_person(proxy.principal_id)
    if principal is None:
        raise NotAProxy()
    return proxy, principal


def principals_clause(person_id: str):
    """A subquery of the ids of the people this person acts for now (for consent lists)."""
    return select(Proxy.principal_id).where(Proxy.proxy_id == person_id, Proxy.status == ACTIVE)


# Guardianship --------------------------------------------------------------------------


def _valid_claims(holder_index: str, vct: str) -> list[dict]:
    from wallet import service as wallet
    from wallet.models import Credential

    now = clock.now()
    return [wallet.claims_of(c) for c in db.session.scalars(select(Credential).where(
        Credential.holder_index == holder_index, Credential.vct == vct,
        Credential.revoked_at.is_(None))) if wallet.usable(c, now)]


def _same_number(value, number: str) -> bool:
    try:
        return validate_id_number(value) == number
    except ValueError:
        return False


def is_guardian(guardian: Person, child: Person) -> bool:
    """Whether valid credentials prove ``guardian`` a parent or household head of ``child``."""
    guardian_number, child_number = identity.id_number_of(guardian), identity.id_number_of(child)
    for holder in (guardian.id_number_index, child.id_number_index):
        for claims in _valid_claims(holder, "birth-certificate"):
            if _same_number(claims.get("child_id_number"), child_number) and (
                    _same_number(claims.get("mother_id_number"), guardian_number)
                    or _same_number(claims.get("father_id_number"), guardian_number)):
                return True
    heads = [c for c in _valid_claims(guardian.id_number_index, "household-register")
             if c.get("household_head") == guardian.name and c.get("name") == guardian.name
             and c.get("relation_to_head") in _HEAD_RELATIONS]
    if not heads:
        return False
    addresses = {c.get("address") for c in heads}
    return any(c.get("household_head") == guardian.name and c.get("address") in addresses
               and _same_number(c.get("id_number"), child_number)
               for c in _valid_claims(child.id_number_index, "household-register"))


def relation_record(person_id: str, proxy_id: str) -> tuple[Proxy, Person, Person, list]:
    """One relation as both people see it, with the scans of codes the proxy showed through it
    (newest first: ``(scan, service point name)``). ``NotFound``, ``NotAProxy``."""
    from codes.models import Scan, ServicePoint
    from delegation.models import ScanPresenter

    proxy = _get(proxy_id)
    if person_id not in (proxy.proxy_id, proxy.principal_id, proxy.accepted_by):
        raise NotAProxy()
    scans = db.session.execute(
        select(Scan, ServicePoint.name)
        .join(ScanPresenter, ScanPresenter.scan_id == Scan.id)
        .join(ServicePoint, ServicePoint.id == Scan.service_point_id)
        .where(ScanPresenter.proxy_id == proxy.id)
        .order_by(Scan.created_at.desc(), Scan.id).limit(50)).all()
    return proxy, identity.get_person(proxy.proxy_id), identity.get_person(proxy.principal_id), scans
