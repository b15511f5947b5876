"""Enterprises (法人): registration by USCC, verification by business licence, delegation.

An enterprise is verified while a valid (not revoked, not expired) ``business-licence`` held
under its USCC names the resident who registered it as legal representative
(``legal_representative_id_number``). The wallet calls ``licence_changed`` when such a licence
is issued or revoked; the end of a licence's validity needs no event (``verified_until``).

Every route acts through ``acting_member``: the caller's live membership of this very
enterprise (not revoked, not expired: checked on every request), or ``NotFound`` as if the
enterprise did not exist. Services flush; the request commits.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.crypto import vault
from core.errors import NotFound, Problem, ValidationProblem
from core.extensions import db
from core.ids import OPAQUE_ID, new_handle, new_id
from identity import service as identity
from identity import uscc as gb32100
from enterprises.models import (
    ADMIN,
    MANAGE_MEMBERS,
    ROLES,
    SCOPES,
    Enterprise,
    EnterpriseMember,
)
from identity.id_numbers import validate_id_number

LICENCE = "business-licence"
NAME_MAX = 128
_HANDLE_ATTEMPTS = 5


class EnterpriseAlreadyRegistered(Problem):
    type = "already-registered"
    status = 409
    title = "An enterprise with this USCC is already registered"


class ScopeMissing(Problem):
    type = "scope-missing"
    status = 403
    title = "Your membership of this enterprise does not allow this"


class EnterpriseNotVerified(Problem):
    type = "enterprise-not-verified"
    status = 403
    title = "No valid business licence names this enterprise's legal representative yet"


class AlreadyMember(Problem):
    type = "already-member"
    status = 409
    title = "This resident is already a member of the enterprise"


class LegalRepresentative(Problem):
    type = "legal-representative"
    status = 409
    title = "The legal representative's membership cannot be changed or revoked"


# Registration and verification ---------------------------------------------------------



def _uscc_context(enterprise_id: str) -> str:
    return f"enterprise.uscc:{enterprise_id}"


def uscc_of(enterprise: Enterprise) -> str:
    return vault().decrypt_text(enterprise.uscc_enc, _uscc_context(enterprise.id))


def normalise_name(name) -> str:
    """An enterprise name in NFC without surrounding space; ``ValueError`` when unusable."""
    name = identity.normalise_text(name, NAME_MAX)
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise ValueError("Must not contain control or invisible characters.")
    return name


def register_enterprise(person_id: str, name, uscc) -> Enterprise:
    """Register an enterprise for the caller, who becomes its first member (admin, every
    scope), and verify it at once if a licence names them. Raises ``ValidationProblem`` and
    ``EnterpriseAlreadyRegistered``."""
    errors, clean = {}, {}
    try:
        clean["name"] = normalise_name(name)
    except ValueError as exc:
        errors["name"] = [str(exc)]
    try:
        clean["uscc"] = gb32100.validate(uscc)
    except gb32100.InvalidUscc as exc:
        errors["uscc"] = [str(exc)]
    if errors:
        raise ValidationProblem(errors)
    index = vault().index("uscc", clean["uscc"])
    existing = db.session.scalars(select(Enterprise).where(Enterprise.uscc_index == index)
                                  .with_for_update()).first()
    if existing is not None:
        return _claim(existing, person_id, clean["name"])
    now = clock.now()
    for _ in range(_HANDLE_ATTEMPTS):
        enterprise_id = new_id()
        enterprise = Enterprise(
            id=enterprise_id, name=clean["name"], uscc_index=index,
            uscc_enc=vault().encrypt_text(clean["uscc"], _uscc_context(enterprise_id)),
            handle=new_handle(10), registered_by=person_id, verified=False, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(enterprise)
                db.session.flush()
        except IntegrityError:
            if db.session.scalar(select(Enterprise.id).where(Enterprise.uscc_index == index)):
                raise EnterpriseAlreadyRegistered() from None
            continue  # the handle collided
        break
    else:
        raise EnterpriseAlreadyRegistered()
    db.session.add(EnterpriseMember(enterprise_id=enterprise.id, person_id=person_id, role=ADMIN,
                                    scopes=list(SCOPES), added_by=None, created_at=now))
    db.session.flush()
    audit.record("enterprise-register", enterprise=enterprise.id, person=person_id)
    evaluate_verification(enterprise)
    return enterprise


def _claim(enterprise: Enterprise, person_id: str, name: str) -> Enterprise:
    """Someone registers a USCC that is registered already. When the enterprise is not
    verified and a valid licence names the caller as legal representative, the registration
    passes to them (whoever registered first could not prove it, and must not hold the USCC
    hostage): the earlier memberships end. Else ``EnterpriseAlreadyRegistered``."""
    if is_verified(enterprise) or enterprise.registered_by == person_id or not _naming_licences(
            enterprise.uscc_index, person_id):
        raise EnterpriseAlreadyRegistered()
    now = clock.now()
    previous = enterprise.registered_by
    for member in db.session.scalars(select(EnterpriseMember).where(
            EnterpriseMember.enterprise_id == enterprise.id, EnterpriseMember.revoked_at.is_(None))):
        member.revoked_at = now
    member = db.session.scalars(select(EnterpriseMember).where(
        EnterpriseMember.enterprise_id == enterprise.id, EnterpriseMember.person_id == person_id)).first()
    if member is None:
        member = EnterpriseMember(enterprise_id=enterprise.id, person_id=person_id)
        db.session.add(member)
    member.role, member.scopes, member.expires_at, member.revoked_at = ADMIN, list(SCOPES), None, None
    member.added_by, member.created_at = None, now
    enterprise.registered_by, enterprise.name = person_id, name
    db.session.flush()
    audit.record("enterprise-claim", enterprise=enterprise.id, person=person_id, previous=previous)
    evaluate_verification(enterprise)
    return enterprise


def _naming_licences(uscc_index: str, person_id: str) -> list:
    """The valid business licences held under the USCC that name this person as legal
    representative."""
    from wallet import service as wallet
    from wallet.models import Credential

    registrant = identity.get_person(person_id)
    if registrant is None:
        return []
    now = clock.now()
    found = []
    for credential in db.session.scalars(select(Credential).where(
            Credential.holder_index == uscc_index, Credential.vct == LICENCE,
            Credential.revoked_at.is_(None))):
        if not wallet.usable(credential, now):
            continue
        named = wallet.claims_of(credential).get("legal_representative_id_number")
        try:
            index = identity.id_number_index(named)
        except ValueError:
            continue
        if index == registrant.id_number_index:
            found.append(credential)
    return found


def evaluate_verification(enterprise: Enterprise) -> bool:
    """Verify or un-verify the enterprise by the licences held now; returns ``verified``."""
    licences = _naming_licences(enterprise.uscc_index, enterprise.registered_by)
    until: datetime | None = None
    if licences and all(c.valid_until is not None for c in licences):
        until = max(clock.aware(c.valid_until) for c in licences)
    verified = bool(licences)
    if verified != enterprise.verified or clock.aware(enterprise.verified_until) != until:
        if verified and not enterprise.verified:
            enterprise.verified_at = clock.now()
        enterprise.verified, enterprise.verified_until = verified, until
        db.session.flush()
        audit.record("enterprise-verified" if verified else "enterprise-unverified",
                     enterprise=enterprise.id)
    return verified


def licence_changed(holder_index: str) -> None:
    """A business licence was issued or revoked under this holder index (the wallet calls
    this): re-evaluate the enterprise with that USCC, if one is registered."""
    enterprise = db.session.scalars(select(Enterprise).where(
        Enterprise.uscc_index == holder_index).with_for_update()).first()
    if enterprise is not None:
        evaluate_verification(enterprise)


def is_verified(enterprise: Enterprise) -> bool:
    until = clock.aware(enterprise.verified_until)
    return enterprise.verified and (until is None or clock.now() < until)


# Membership ----------------------------------------------------------------------------


def _live(member: EnterpriseMember | None) -> bool:
    if member is None or member.revoked_at is not None:
        return False
    expires = clock.aware(member.expires_at)
    return expires is None or clock.now() < expires


def acting_member(person_id: str, enterprise_id: str) -> tuple[Enterprise, EnterpriseMember]:
    """The enterprise and the caller's live membership of it; ``NotFound`` otherwise."""
    if OPAQUE_ID.fullmatch(enterprise_id or "") is None:
        raise NotFound()
    row = db.session.execute(
        select(Enterprise, EnterpriseMember)
        .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
        .where(Enterprise.id == enterprise_id, EnterpriseMember.person_id == person_id)).first()
    if row is None or not _live(row[1]):
        raise NotFound()
    if not is_verified(row[0]):
        # A licence issued with a future valid_from verifies with no event when it comes into
        # force: an unverified enterprise looks again (one indexed query) when a member acts.
        evaluate_verification(row[0])
    return row[0], row[1]


def is_legal_representative(enterprise: Enterprise, member: EnterpriseMember) -> bool:
    return member.person_id == enterprise.registered_by and is_verified(enterprise)


def scopes_of(enterprise: Enterprise, member: EnterpriseMember) -> list[str]:
    if is_legal_representative(enterprise, member):
        return list(SCOPES)
    return [s for s in SCOPES if s in (member.scopes or [])]


def require_scope(person_id: str, enterprise_id: str, scope: str) -> tuple[Enterprise, EnterpriseMember]:
    """The caller's membership when it carries ``scope`` in a verified enterprise.
    ``NotFound`` for a non-member, ``EnterpriseNotVerified``, ``ScopeMissing``."""
    enterprise, member = acting_member(person_id, enterprise_id)
    if not is_verified(enterprise):
        raise EnterpriseNotVerified()
    if scope not in scopes_of(enterprise, member):
        raise ScopeMissing("This needs the scope %(scope)s.", params={"scope": scope})
    return enterprise, member


def my_enterprises(person_id: str) -> list[tuple[Enterprise, EnterpriseMember]]:
    rows = db.session.execute(
        select(Enterprise, EnterpriseMember)
        .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
        .where(EnterpriseMember.person_id == person_id, EnterpriseMember.revoked_at.is_(None))
        .order_by(Enterprise.created_at, Enterprise.id)).all()
    return [(e, m) for e, m in rows if _live(m)]


def members_of(person_id: str, enterprise_id: str) -> list[tuple[EnterpriseMember, object]]:
    """The live members with their persons, for those who may manage members."""
    from identity.models import Person

    enterprise, _ = require_scope(person_id, enterprise_id, MANAGE_MEMBERS)
    rows = db.session.execute(
        select(EnterpriseMember, Person).join(Person, Person.id == EnterpriseMember.person_id)
        .where(EnterpriseMember.enterprise_id == enterprise.id)
        .order_by(EnterpriseMember.created_at, EnterpriseMember.id)).all()
    return [(m, p) for m, p in rows if _live(m)]


def _check_grant(role, scopes, expires_at) -> tuple[str, list[str], datetime | None]:
    errors = {}
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if not isinstance(scopes, list) or any(s not in SCOPES for s in scopes):
        errors["scopes"] = [f"Must be a list of: {', '.join(SCOPES)}."]
    if expires_at is not None and clock.aware(expires_at) <= clock.now():
        errors["expires_at"] = ["Must be in the future."]
    if errors:
        raise ValidationProblem(errors)
    return role, [s for s in SCOPES if s in scopes], clock.aware(expires_at)


def add_member(person_id: str, enterprise_id: str, id_number, role, scopes, expires_at) -> EnterpriseMember:
    """Delegate to a registered resident. A delegate may grant only scopes they hold.
    Raises ``NotFound``, ``EnterpriseNotVerified``, ``ScopeMissing``, ``ValidationProblem``,
    ``TooManyAttempts`` (ID number lookups), ``AlreadyMember`` and ``LegalRepresentative``."""
    enterprise, actor = require_scope(person_id, enterprise_id, MANAGE_MEMBERS)
    role, scopes, expires_at = _check_grant(role, scopes, expires_at)
    mine = scopes_of(enterprise, actor)
    if any(s not in mine for s in scopes):
        raise ScopeMissing("You can grant only scopes that you hold.")
    person = _registered(person_id, id_number)
    if person.id == enterprise.registered_by:
        raise LegalRepresentative()
    member = db.session.scalars(select(EnterpriseMember).where(
        EnterpriseMember.enterprise_id == enterprise.id, EnterpriseMember.person_id == person.id)
        .with_for_update()).first()
    now = clock.now()
    if member is not None and _live(member):
        raise AlreadyMember()
    if member is None:
        member = EnterpriseMember(enterprise_id=enterprise.id, person_id=person.id)
        db.session.add(member)
    # A revoked or expired membership reopens with the new grant.
    member.role, member.scopes, member.expires_at = role, scopes, expires_at
    member.revoked_at, member.added_by, member.created_at = None, person_id, now
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise AlreadyMember() from None
    audit.record("enterprise-member-add", enterprise=enterprise.id, member=member.id,
                 person=person.id, by=person_id, role=role, scopes=scopes)
    return member


def _registered(caller_id: str, id_number):
    try:
        number = validate_id_number(id_number)
    except ValueError as exc:
        raise ValidationProblem({"id_number": [str(exc)]}) from None
    person = identity.find_resident_for(caller_id, number)
    if person is None:
        raise ValidationProblem({"id_number": ["No resident has registered with this ID number."]})
    return person


def revoke_member(person_id: str, enterprise_id: str, member_id: str) -> None:
    """End a membership at once. ``NotFound`` for a member of another enterprise or one
    already gone; ``LegalRepresentative`` for the registrant's own membership."""
    enterprise, _ = require_scope(person_id, enterprise_id, MANAGE_MEMBERS)
    if OPAQUE_ID.fullmatch(member_id or "") is None:
        raise NotFound()
    member = db.session.scalars(select(EnterpriseMember).where(
        EnterpriseMember.id == member_id, EnterpriseMember.enterprise_id == enterprise.id)
        .with_for_update()).first()
    if not _live(member):
        raise NotFound()
    if member.person_id == enterprise.registered_by:
        raise LegalRepresentative()
    member.revoked_at = clock.now()
    db.session.flush()
    audit.record("enterprise-member-revoke", enterprise=enterprise.id, member=member.id,
                 person=member.person_id, by=person_id)


# What members see ----------------------------------------------------------------------


def enterprise_view(enterprise: Enterprise, member: EnterpriseMember) -> dict:
    return {"id": enterprise.id, "name": enterprise.name, "uscc": uscc_of(enterprise),
            "verified": is_verified(enterprise),
            "legal_representative": is_legal_representative(enterprise, member),
            "role": member.role, "scopes": scopes_of(enterprise, member),
            "expires_at": member.expires_at}


def on_credential_changed(holder_index: str, vct: str | None = None, **_) -> None:
    """Receiver of ``core.signals.credential_changed``: a business licence issued or revoked."""
    if vct == LICENCE:
        licence_changed(holder_index)

