"""Credentials: issuing and revoking, and the holder's own view (wallet, presentations).

Services flush and never commit; the request or command that calls them commits once.
``base_url`` (``PUBLIC_URL``, else the scheme and host a request came in on) is passed in by
the caller: it makes the issuer identifiers and status-list addresses inside credentials.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, select

from core import audit, changes, clock, signals
from core.crypto import vault
from core.errors import NotFound, ValidationProblem
from core.extensions import db
from core.ids import new_id
from core.models import insert_for
from identity.id_numbers import mask_id_number
from codes import keys as code_keys
from wallet import compact as compact_format, keys, sdjwt, status
from wallet.errors import (
    AlreadyRevoked,
    CredentialNotUsable,
    InvalidClient,
    TypeNotAllowed,
    UnknownType,
)
from wallet.holders import holder_index
from wallet.issuers import issuer_url
from wallet.models import Credential, CredentialType, Issuer, IssuerKey

MAX_CLAIM_CHARS = 200_000  # a portrait (base64 JPEG) is the largest claim

# Hook for the catalogue: sent with the holder index after a credential is issued or revoked,
# so that policies (免申即享) are evaluated again for that holder and the holder is told.
# Extras: ``vct``, ``event`` (ISSUED or REVOKED), ``credential`` (its id), ``type_name``,
# ``issuer_name``, and for a revocation ``reason``.
credential_changed = signals.credential_changed
ISSUED = "issued"
RESIDENT_ID = "resident-id"


# Issuing -------------------------------------------------------------------------------


def _issuer_key_and_type(issuer_id: str, vct) -> tuple[Issuer, IssuerKey, CredentialType | None]:
    """The active issuer, its signing key and the credential type, in one query."""
    row = db.session.execute(
        select(Issuer, IssuerKey, CredentialType)
        .join(IssuerKey, and_(IssuerKey.issuer_id == Issuer.id, IssuerKey.retired_at.is_(None)))
        .outerjoin(CredentialType, CredentialType.vct == (vct if isinstance(vct, str) else ""))
        .where(Issuer.id == issuer_id, Issuer.active.is_(True))
        .order_by(IssuerKey.created_at.desc()).limit(1)).first()
    if row is None:
        raise InvalidClient()
    return row[0], row[1], row[2]


def _active_issuer(issuer_id: str) -> Issuer:
    issuer = db.session.get(Issuer, issuer_id)
    if issuer is None or not issuer.active:
        raise InvalidClient()
    return issuer


def _check_claims(ctype: CredentialType, claims: dict, holder_kind: str, holder_value: str) -> None:
    errors = []
    unknown = sorted(set(claims) - set(ctype.claims))
    missing = [c for c in ctype.required if c not in claims]
    if unknown:
        errors.append(f"Unknown claims for {ctype.vct}: {', '.join(unknown)}.")
    if missing:
        errors.append(f"Missing claims for {ctype.vct}: {', '.join(missing)}.")
    for name, value in claims.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append(f"{name}: must be a string or a number.")
        elif isinstance(value, str) and (len(value) > MAX_CLAIM_CHARS or "\x00" in value):
            errors.append(f"{name}: too long or not text.")
    # A credential must not name someone other than its holder.
    named = claims.get(holder_kind)
    if isinstance(named, str) and named.strip().upper() != holder_value:
        errors.append(f"{holder_kind}: does not match the holder.")
    if errors:
        raise ValidationProblem({"claims": errors}, errors[0])


VALID_UNTIL = "valid_until"
CHINA = timezone(timedelta(hours=8))
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}")


def _end_of_day_in_china(value) -> datetime | None:
    """The end of the day a ``YYYY-MM-DD`` or ``YYYYMMDD`` claim names, in China (UTC+8): the
    first moment it is no longer valid. None when it is not such a date."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    digits = value.replace("-", "")
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1), time(), CHINA).astimezone(timezone.utc)


def one_valid_until(claims: dict, valid_until: datetime | None) -> datetime | None:
    """The credential's ``valid_until``, one source of truth with a ``valid_until`` claim.

    A claim ``valid_until`` is a date (``YYYY-MM-DD`` or ``YYYYMMDD``): valid through that day
    in China. Given alone, it makes the credential's ``valid_until`` (and the SD-JWT's ``exp``)
    the end of that day; given with the credential's own, the two must name the same day (the
    credential's last valid moment falls on it). ``ValidationProblem`` otherwise.
    """
    if VALID_UNTIL not in claims:
        return valid_until
    end = _end_of_day_in_china(claims[VALID_UNTIL])
    if end is None:
        raise ValidationProblem({"claims": [
            "valid_until: must be a date, YYYY-MM-DD or YYYYMMDD."]})
    if valid_until is None:
        return end
    if not end - timedelta(days=1) < valid_until <= end:
        raise ValidationProblem({"valid_until": [
            f"Disagrees with the claim valid_until ({claims[VALID_UNTIL]}): give the same day "
            "(in China, UTC+8), or only one of them."]})
    return valid_until


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def issue_credential(issuer_id: str, vct: str, holder: dict, claims: dict, *, base_url: str,
                     valid_from: datetime | None = None,
                     valid_until: datetime | None = None) -> tuple[Credential, str]:
    """Sign an SD-JWT VC for the holder (registered or not) and store it, encrypted.

    Returns the credential (inserted with a Core statement, so not in the session) and its
    SD-JWT. Raises ``TypeNotAllowed`` (403), ``UnknownType``,
    or ``ValidationProblem`` naming unknown or missing claims and a bad holder or period.
    """
    issuer, key, ctype = _issuer_key_and_type(issuer_id, vct)
    if ctype is None:
        raise UnknownType("No credential type named %(type)r.", params={"type": vct})
    if vct not in issuer.types:
        raise TypeNotAllowed()
    try:
        index, holder_kind, holder_value = holder_index(holder)
    except ValueError as exc:
        raise ValidationProblem({"holder": [str(exc)]}) from None
    _check_claims(ctype, claims, holder_kind, holder_value)
    valid_until = one_valid_until(claims, valid_until)
    now = clock.now()
    if valid_until is not None and (valid_until <= now or (valid_from and valid_until <= valid_from)):
        raise ValidationProblem({"valid_until": ["Must be in the future and after valid_from."]})
    signer = keys.private_jwk(key)
    registered = {"iss": issuer_url(base_url, issuer.id), "iat": _epoch(now), "vct": vct}
    if valid_from is not None:
        registered["nbf"] = _epoch(valid_from)
    if valid_until is not None:
        registered["exp"] = _epoch(valid_until)
    holder_jwk = keys.holder_public_jwk(index)
    credential = Credential(id=new_id(), vct=vct, issuer_id=issuer.id, holder_index=index,
                            issued_at=now, valid_from=valid_from, valid_until=valid_until)
    for entry in status.entries():
        registered["status"] = {"status_list": {"idx": entry.idx,
                                                "uri": status.list_url(base_url, entry.list_id)}}
        sd_jwt = sdjwt.issue(claims, registered=registered, issuer_key=signer, kid=key.kid,
                             holder_jwk=holder_jwk)
        credential.status_list_id, credential.status_idx = entry.list_id, entry.idx
        credential.sd_jwt_enc = vault().encrypt_text(sd_jwt, _sd_jwt_context(credential.id))
        # ON CONFLICT DO NOTHING rather than a savepoint: one round trip on the hot path.
        if db.session.execute(insert_for(Credential).values(
                {c.key: getattr(credential, c.key) for c in Credential.__table__.columns})
                .on_conflict_do_nothing().returning(Credential.id)).first() is not None:
            break
        # Another credential took this entry: sign again with the next one.
    changes.touch(db.session, holders=(index,))
    audit.record("issue", credential=credential.id, issuer=issuer.id, type=vct, holder=index)
    # hook: policies re-evaluated (catalog.jobs), the holder told (catalog.notices)
    credential_changed.send(index, vct=vct, event=ISSUED, credential=credential.id,
                            type_name=ctype.name, issuer_name=issuer.name)
    return credential, sd_jwt



def _sd_jwt_context(credential_id: str) -> str:
    return f"credential.sd_jwt:{credential_id}"


def sd_jwt_of(credential: Credential) -> str:
    return vault().decrypt_text(credential.sd_jwt_enc, _sd_jwt_context(credential.id))


def claims_of(credential: Credential, sd_jwt: str | None = None) -> dict:
    """The credential's claims (all of them: it is the holder's own copy)."""
    return sdjwt.claims_of(sd_jwt or sd_jwt_of(credential))


def revoke_credential(issuer_id: str, credential_id: str, reason: str) -> Credential:
    """Revoke a credential of this issuer: its status bit flips at once. ``NotFound`` for
    another issuer's credential, ``AlreadyRevoked``."""
    issuer = _active_issuer(issuer_id)
    credential = db.session.scalars(select(Credential).where(
        Credential.id == credential_id, Credential.issuer_id == issuer.id).with_for_update()).first()
    if credential is None:
        raise NotFound()
    if credential.revoked_at is not None:
        raise AlreadyRevoked()
    credential.revoked_at = clock.now()
    credential.revocation_reason = reason
    db.session.flush()
    audit.record("revoke", credential=credential.id, issuer=issuer.id,
                 reason=hashlib.sha256(reason.encode()).hexdigest())
    ctype = db.session.get(CredentialType, credential.vct)
    credential_changed.send(credential.holder_index, vct=credential.vct, event=REVOKED,
                            credential=credential.id, type_name=ctype.name if ctype else credential.vct,
                            issuer_name=issuer.name, reason=reason)  # hooks: as for issuing
    return credential


# The holder's view ---------------------------------------------------------------------


VALID = "valid"
REVOKED = "revoked"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"


def status_of(credential: Credential, now: datetime | None = None) -> str:
    now = now or clock.now()
    if credential.revoked_at is not None:
        return REVOKED
    if credential.valid_until is not None and clock.aware(credential.valid_until) <= now:
        return EXPIRED
    if credential.valid_from is not None and clock.aware(credential.valid_from) > now:
        return NOT_YET_VALID
    return VALID


def usable(credential: Credential, now: datetime | None = None) -> bool:
    return status_of(credential, now) == VALID


def wallet_of(holder: str) -> list[tuple[Credential, CredentialType, Issuer]]:
    """Every credential of the holder (by holder index), newest first, with type and issuer."""
    return db.session.execute(
        select(Credential, CredentialType, Issuer)
        .join(CredentialType, CredentialType.vct == Credential.vct)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(Credential.holder_index == holder)
        .order_by(Credential.issued_at.desc(), Credential.id)).all()


def credential_of(holder: str, credential_id: str) -> tuple[Credential, CredentialType, Issuer]:
    """One of the holder's credentials; ``NotFound`` for anyone else's."""
    row = db.session.execute(
        select(Credential, CredentialType, Issuer)
        .join(CredentialType, CredentialType.vct == Credential.vct)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(Credential.id == credential_id, Credential.holder_index == holder)).first()
    if row is None:
        raise NotFound()
    return row


def usable_credentials(holder: str, types: list[str]) -> dict[str, Credential]:
    """The newest valid credential of each of ``types`` that the holder has."""
    now = clock.now()
    found: dict[str, Credential] = {}
    for credential in db.session.scalars(
            select(Credential).where(Credential.holder_index == holder, Credential.vct.in_(types),
                                     Credential.revoked_at.is_(None))
            .order_by(Credential.issued_at.desc())):
        if credential.vct not in found and usable(credential, now):
            found[credential.vct] = credential
    return found


def present_credential(holder: str, credential_id: str, claims: list[str], *,
                       audience: str | None = None, nonce: str | None = None) -> dict:
    """A presentation (亮证) of the chosen claims with a key-binding JWT by the holder key.

    Returns ``{presentation, nonce, expires_at}``. Raises ``NotFound``, ``CredentialNotUsable``
    (revoked, expired, not yet valid), ``ValidationProblem`` naming claims it does not carry.
    """
    credential, _ctype, _issuer = credential_of(holder, credential_id)
    return present(credential, claims, audience=audience, nonce=nonce, compact=True)


def present(credential: Credential, claims: list[str] | None, *, audience: str | None = None,
            nonce: str | None = None, compact: bool = False) -> dict:
    """Present ``claims`` of a credential (``None``: all of them); see ``present_credential``.
    ``compact``: also ``qr_text``, the same claims as an ``OCV1:`` code (``wallet.compact``);
    ``ValidationProblem`` when they do not fit a QR code."""
    if not usable(credential):
        raise CredentialNotUsable()
    sd_jwt = sd_jwt_of(credential)
    carried = sdjwt.claims_of(sd_jwt)
    if claims is None:
        claims = list(carried)
    unknown = [c for c in claims if c not in carried]
    if unknown:
        raise ValidationProblem({"claims": [f"Not in this credential: {', '.join(unknown)}."]})
    iat = int(clock.timestamp())
    text, nonce = sdjwt.present(sd_jwt, claims, holder_key=keys.holder_private_jwk(credential.holder_index),
                                iat=iat, aud=audience, nonce=nonce)
    max_age = current_app.config["PRESENTATION_MAX_AGE_SECONDS"]
    shown = {"presentation": text, "nonce": nonce,
             "expires_at": datetime.fromtimestamp(iat + max_age, clock.now().tzinfo)}
    if compact:
        shown["qr_text"] = _compact_code(credential, {c: carried[c] for c in claims},
                                         iat + min(max_age, compact_format.MAX_LIFETIME_SECONDS))
    return shown


def _compact_code(credential: Credential, claims: dict, exp: int) -> str:
    """The ``OCV1:`` code of these claims, signed with the platform's code key."""
    try:
        return compact_format.encode(code_keys.current_signer(), compact_format.Shown(
            exp, compact_format.new_cti(), credential.vct, credential.issuer_id, claims,
            credential.status_list_id, credential.status_idx))
    except compact_format.TooLarge:
        raise ValidationProblem({"claims": [
            "Too large to show as a QR code: choose fewer claims (pictures never fit)."]}) from None


_MASKED_SUFFIXES = ("id_number", "uscc", "card_number")
_LEFT_OUT = ("portrait",)


def summary(claims: dict) -> dict:
    """The claims as the wallet list shows them: identifying numbers masked (first three and
    last three characters), pictures left out."""
    shown = {}
    for name, value in claims.items():
        if name in _LEFT_OUT:
            continue
        if name.endswith(_MASKED_SUFFIXES) and isinstance(value, str) and len(value) > 6:
            value = mask_id_number(value)
        shown[name] = value
    return shown


def resident_id_claims(holder_index: str) -> dict | None:
    """The claims of the holder's newest valid ``resident-id``, or None (identity asks, for
    assurance levels, through ``core.signals.resident_id_claims``)."""
    credential = usable_credentials(holder_index, [RESIDENT_ID]).get(RESIDENT_ID)
    return claims_of(credential) if credential is not None else None
