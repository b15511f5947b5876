"""Who a partner sees: pairwise subject identifiers and the claims each scope releases.

A partner's ``sub`` for a person is a keyed HMAC of the person's id and the partner's sector:
stable for that partner, unrelated across partners, and unguessable without the key. The
``oauth_subjects`` table resolves a ``sub`` back to the person.
"""
from __future__ import annotations

from dataclasses import dataclass

from authlib.oidc.core import UserInfo
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.crypto import vault
from core.extensions import db
from core.models import insert_for
from identity.models import ACTIVE, Person
from identity.service import get_person, phone_of
from partners.models import ClientRules, PairwiseSubject

# Plain words for what each scope lets a partner read, as the pages list them.
CLAIM_WORDS = {
    "openid": _l("that it is you, by an identifier only this app gets, and how well your "
                 "identity is verified"),
    "profile": _l("your name and date of birth"),
    "phone": _l("your mobile phone number"),
}


@dataclass
class SignedInSubject:
    """A person as one partner sees them, with how and when they signed in."""

    person: Person
    client: ClientRules
    sub: str
    auth_time: int
    acr: str
    amr: list[str]

    # Authlib asks users for their id in a few places.
    def get_user_id(self):
        return self.sub


def pairwise_sub(client: ClientRules, person_id: str) -> str:
    """The ``sub`` that this partner sees for this person (64 hex characters)."""
    return vault().index("pairwise", f"{client.sector}:{person_id}")


def remember_subject(client: ClientRules, person_id: str) -> str:
    """Record the partner's ``sub`` for the person (once) and return it."""
    sub = pairwise_sub(client, person_id)
    db.session.execute(insert_for(PairwiseSubject).values(
        sub=sub, client_id=client.client_id, person_id=person_id).on_conflict_do_nothing())
    return sub


def resolve_subject(client_id: str, sub: str) -> Person | None:
    """The person behind a partner's ``sub``, or None."""
    person_id = db.session.scalar(select(PairwiseSubject.person_id).where(
        PairwiseSubject.sub == sub, PairwiseSubject.client_id == client_id))
    return get_person(person_id) if person_id else None


def signed_in_subject(client: ClientRules | None, person_id: str, auth_time: int, acr: str,
                      amr: list[str]) -> SignedInSubject | None:
    """The subject for a stored grant, or None when the person is gone or suspended."""
    person = get_person(person_id)
    if client is None or person is None or person.status != ACTIVE:
        return None
    return SignedInSubject(person, client, pairwise_sub(client, person_id), auth_time, acr,
                           list(amr))


def user_info(subject: SignedInSubject, scope: str) -> UserInfo:
    """The claims that ``scope`` releases about the subject: ``sub`` always, ``name`` and
    ``birthdate`` with ``profile``, ``phone_number`` (E.164) with ``phone``."""
    person = subject.person
    claims = {"sub": subject.sub, "name": person.name,
              "birthdate": person.birthdate.isoformat()}
    scopes = scope.split() if scope else []
    if "phone" in scopes:
        claims["phone_number"] = "+86" + phone_of(person)
    return UserInfo(claims).filter(scope)
