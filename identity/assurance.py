"""Assurance levels (API.md, ``GET /me``), kept on the person and refreshed on every event
that can change them.

1. registered: self-asserted;
2. a valid ``resident-id`` credential matches the registration (name and ID number);
3. as 2, and the enrolled face matched that credential's ``portrait``.

The stored level is what scans and sign-ins read without a query; it is refreshed when a
``resident-id`` is issued or revoked (the wallet's ``credential_changed`` signal), when the
person registers (a credential issued before may be waiting), when a face is enrolled or
removed, and when the person reads their profile (a credential may have expired meanwhile).
"""
from __future__ import annotations

from sqlalchemy import select

from core import clock, signals
from core.extensions import db
from identity.models import Person

RESIDENT_ID = "resident-id"


def resident_id_claims(person: Person) -> dict | None:
    """The claims of the person's newest valid ``resident-id``, or None (the wallet answers,
    through the resolver it provides at start-up)."""
    return signals.resident_id_claims(person.id_number_index)


def matches_registration(person: Person, claims: dict | None) -> bool:
    """Whether a resident-id's claims name this registration (name and ID number)."""
    from identity.service import id_number_of

    return (claims is not None and claims.get("name") == person.name
            and str(claims.get("id_number", "")).strip().upper() == id_number_of(person))


def assurance_of(person: Person) -> int:
    """The level the person has now, from their wallet and their enrolled face."""
    from identity.face_models import FaceTemplate

    if not matches_registration(person, resident_id_claims(person)):
        return 1
    template = db.session.get(FaceTemplate, person.id)
    return 3 if template is not None and template.portrait_matched else 2


def refresh_assurance(person: Person) -> int:
    """Store the person's current level (flushed when it changed) and return it."""
    level = assurance_of(person)
    if level != person.assurance_level:
        person.assurance_level = level
        person.updated_at = clock.now()
        db.session.flush()
    return level


def on_credential_changed(holder_index: str, vct: str | None = None, **_) -> None:
    """Receiver of ``core.signals.credential_changed``: a resident-id issued or revoked."""
    if vct != RESIDENT_ID:
        return
    person = db.session.scalar(select(Person).where(Person.id_number_index == holder_index))
    if person is not None:
        refresh_assurance(person)

