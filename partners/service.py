"""Partner apps: registration, consent, codes and tokens, withdrawal.

Services flush and never commit; the request (or CLI command) that calls them commits.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, delete, insert, or_, select, update

from core import clock
from core.clients import set_active
from core.errors import NotFound, ValidationProblem
from core.extensions import db
from core.ids import OPAQUE_ID, new_id
from partners.models import (
    SUPPORTED_SCOPES,
    AuthorizationCode,
    ClientRules,
    ClientSnapshot,
    OAuthClient,
    OAuthToken,
    PartnerConsent,
    digest,
)
from partners.subjects import CLAIM_WORDS, SignedInSubject


class PartnerNotFound(NotFound):
    title = "No such partner app among yours"


# Registration ---------------------------------------------------------------------------


def _redirect_uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        return "must be an absolute URI"
    if parts.fragment:
        return "must not have a fragment"
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return "must use https (http only for localhost)"
    if parts.scheme not in ("http", "https"):
        return "must use https"
    return None


def create_partner(name: str, redirect_uris: list[str], scopes: list[str]) -> tuple[OAuthClient, str]:
    """Register a partner app. Returns the client and its secret (stored only as a digest).

    ``openid`` is always among the scopes. Raises ``ValidationProblem`` for an empty name,
    a redirect URI that is not absolute https (http only for localhost) or has a fragment,
    and an unknown scope.
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 128:
        errors["name"] = ["Must be 1 to 128 characters."]
    if not redirect_uris:
        errors["redirect_uri"] = ["At least one is required."]
    for uri in redirect_uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            errors.setdefault("redirect_uri", []).append(f"{uri}: {problem}")
    unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
    if unknown:
        errors["scope"] = [f"Unknown scope {s!r}; known: {', '.join(SUPPORTED_SCOPES)}."
                           for s in unknown]
    if errors:
        raise ValidationProblem(errors)
    wanted = {"openid", *scopes}
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=new_id(), name=name, secret_hash=digest(secret),
        redirect_uris=json.dumps(list(dict.fromkeys(redirect_uris))),
        scope=" ".join(s for s in SUPPORTED_SCOPES if s in wanted),
        sector=new_id(), active=True, generation=0, created_at=clock.now())
    db.session.add(client)
    db.session.flush()
    return client, secret




def get_client(client_id: str | None) -> ClientSnapshot | None:
    """The active partner app with this client id, or None.

    Read from the database on every call, never from a per-worker cache: a partner that an
    operator disables is refused by every worker from the next request on. (The token
    endpoint asks once per request; the tokens' own lookups read the client in their query,
    see ``find_token``.) Values, not the ORM object, so they outlive the session.
    """
    if not client_id or OPAQUE_ID.fullmatch(client_id) is None:
        return None  # never one of ours (and a NUL would even upset PostgreSQL)
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id,
                                                      OAuthClient.active.is_(True)))
    return row.snapshot() if row is not None else None


def set_enabled(client_id: str, enabled: bool) -> OAuthClient | None:
    """Enable or disable the partner app with this client id; None when there is none.

    Disabling moves it to a new generation (``app.clients.set_active``): its access and
    refresh tokens, unspent codes and device codes stop at once and never work again, and it
    cannot authenticate while disabled. Enabling lets it authenticate and ask for new ones;
    its users sign in to it again. The residents' consents stay.
    """
    row = db.session.get(OAuthClient, client_id) if OPAQUE_ID.fullmatch(client_id or "") else None
    if row is not None:
        set_active(row, enabled, "partner")
        db.session.flush()
    return row


# Consent --------------------------------------------------------------------------------


def consented_scope(person_id: str, client_id: str) -> set[str]:
    """The scopes the person has let this partner read (empty when none)."""
    scope = db.session.scalar(select(PartnerConsent.scope).where(
        PartnerConsent.person_id == person_id, PartnerConsent.client_id == client_id))
    return set(scope.split()) if scope else set()


def grant_consent(person_id: str, client_id: str, scope: str) -> None:
    """Remember that the person lets this partner read ``scope`` (added to what it had)."""
    consent = db.session.scalar(select(PartnerConsent).where(
        PartnerConsent.person_id == person_id, PartnerConsent.client_id == client_id))
    wanted = set(scope.split())
    now = clock.now()
    if consent is None:
        db.session.add(PartnerConsent(person_id=person_id, client_id=client_id,
                                      scope=_ordered(wanted), granted_at=now, updated_at=now))
    elif not wanted <= set(consent.scope.split()):
        consent.scope = _ordered(wanted | set(consent.scope.split()))
        consent.updated_at = now
    db.session.flush()


def _ordered(scopes: set[str]) -> str:
    return " ".join(s for s in SUPPORTED_SCOPES if s in scopes)


def describe_scope(scope: str) -> list[str]:
    """What each scope lets a partner read, in plain words."""
    return [str(CLAIM_WORDS[s]) for s in SUPPORTED_SCOPES if s in set(scope.split())]


def partners_of(person_id: str) -> list[dict]:
    """The partners the person signed in to, with what each may read, newest first."""
    rows = db.session.execute(
        select(PartnerConsent, OAuthClient.name).join(
            OAuthClient, OAuthClient.client_id == PartnerConsent.client_id)
        .where(PartnerConsent.person_id == person_id)
        .order_by(PartnerConsent.updated_at.desc())).all()
    return [{"client_id": consent.client_id, "name": name, "scopes": consent.scope.split(),
             "may_read": describe_scope(consent.scope), "granted_at": consent.granted_at,
             "updated_at": consent.updated_at} for consent, name in rows]


def withdraw_consent(person_id: str, client_id: str) -> None:
    """Forget the person's consent to this partner and revoke every token and code it holds.

    Raises ``PartnerNotFound`` when the person has no consent with this partner.
    """
    gone = db.session.execute(delete(PartnerConsent).where(
        PartnerConsent.person_id == person_id, PartnerConsent.client_id == client_id))
    if gone.rowcount == 0:
        raise PartnerNotFound()
    now = clock.now()
    db.session.execute(update(OAuthToken).where(
        OAuthToken.person_id == person_id, OAuthToken.client_id == client_id,
        or_(OAuthToken.access_revoked_at.is_(None), OAuthToken.refresh_revoked_at.is_(None)))
        .values(access_revoked_at=now, refresh_revoked_at=now))
    db.session.execute(update(AuthorizationCode).where(
        AuthorizationCode.person_id == person_id, AuthorizationCode.client_id == client_id,
        AuthorizationCode.used_at.is_(None)).values(used_at=now))
    db.session.flush()


# Codes and tokens -------------------------------------------------------------------------


def save_code(code: str, client: ClientRules, subject: SignedInSubject, redirect_uri: str,
              scope: str, nonce: str | None, challenge: str, method: str) -> None:
    now = clock.now()
    db.session.add(AuthorizationCode(
        code_hash=digest(code), client_id=client.client_id, person_id=subject.person.id,
        redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=challenge,
        code_challenge_method=method, auth_time=subject.auth_time, acr=subject.acr,
        amr=" ".join(subject.amr), generation=client.generation,
        expires_at=now + timedelta(seconds=current_app.config["OIDC_CODE_SECONDS"])))
    db.session.flush()


def spend_code(code: str, client: ClientRules) -> AuthorizationCode | None:
    """The code's grant, spent by this call; None when it is unknown, another client's, from
    before the client was disabled, expired or spent already. Spending a spent code again
    revokes what its first exchange issued (RFC 6749 §4.1.2)."""
    code_hash = digest(code)
    now = clock.now()
    spent = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash,
               AuthorizationCode.client_id == client.client_id,
               AuthorizationCode.generation == client.generation,
               AuthorizationCode.used_at.is_(None),
               AuthorizationCode.expires_at > now)
        .values(used_at=now)
        .returning(AuthorizationCode)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if spent is not None:
        return spent
    reused = db.session.scalar(select(AuthorizationCode.code_hash).where(
        AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_not(None)))
    if reused is not None:
        _revoke_pairs(OAuthToken.family.in_(
            select(OAuthToken.family).where(OAuthToken.code_hash == code_hash)))
    return None


def save_token(token: dict, client: ClientRules, subject: SignedInSubject,
               code_hash: str | None = None, family: str | None = None) -> None:
    """Store an issued token pair (as digests) for the subject."""
    now = int(clock.timestamp())
    refresh = token.get("refresh_token")
    # A plain INSERT: nothing reads the row back in this request.
    db.session.execute(insert(OAuthToken.__table__).values(
        client_id=client.client_id, person_id=subject.person.id, family=family or new_id(),
        code_hash=code_hash, access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if refresh else None,
        scope=token.get("scope", ""), issued_at=now, expires_in=int(token["expires_in"]),
        refresh_expires_at=(now + current_app.config["OIDC_REFRESH_TOKEN_SECONDS"]
                            if refresh else None),
        auth_time=subject.auth_time, acr=subject.acr, amr=" ".join(subject.amr),
        generation=client.generation))


def find_token(token: str, hint: str | None = None) -> OAuthToken | None:
    """The token row for an access or refresh token string, while its client is active and
    in the token's generation (else None, as for an unknown token). The client is read in the
    same query and kept on the row as ``current_client``."""
    hashed = digest(token)
    if hint == "refresh_token":
        where = OAuthToken.refresh_token_hash == hashed
    elif hint == "access_token":
        where = OAuthToken.access_token_hash == hashed
    else:
        where = or_(OAuthToken.access_token_hash == hashed,
                    OAuthToken.refresh_token_hash == hashed)
    found = db.session.execute(
        select(OAuthToken, OAuthClient)
        .join(OAuthClient, and_(OAuthClient.client_id == OAuthToken.client_id,
                                OAuthClient.active.is_(True),
                                OAuthClient.generation == OAuthToken.generation))
        .where(where)).first()
    if found is None:
        return None
    row, client = found
    row.current_client = client.snapshot()
    return row


def spend_refresh_token(refresh_token: str, client: ClientRules) -> OAuthToken | None:
    """The token row of a refresh token, which this call spends; None when it is unknown,
    another client's, from before the client was disabled, expired or revoked. A spent one
    presented again revokes its family."""
    hashed = digest(refresh_token)
    client_id = client.client_id
    now = clock.now()
    spent = db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.refresh_token_hash == hashed, OAuthToken.client_id == client_id,
               OAuthToken.generation == client.generation,
               OAuthToken.refresh_revoked_at.is_(None),
               OAuthToken.refresh_expires_at > int(clock.timestamp()))
        .values(refresh_revoked_at=now)
        .returning(OAuthToken)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if spent is not None:
        return spent
    row = db.session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == hashed,
                                                     OAuthToken.client_id == client_id))
    if row is not None and row.refresh_revoked_at is not None:
        revoke_family(row.family)
    return None


def revoke_family(family: str) -> None:
    _revoke_pairs(OAuthToken.family == family)


def _revoke_pairs(condition) -> None:
    """Revoke the access and refresh tokens of the rows ``condition`` selects.

    Every loser of a race on one refresh token (or code) revokes the same family at the same
    moment. An UPDATE locks rows in the order it happens to scan them, and the losers' own new
    row versions change that order between them: PostgreSQL found deadlocks. Locking the rows
    by id first gives every transaction the same order (SQLite has one writer anyway).
    """
    now = clock.now()
    ids = list(db.session.scalars(select(OAuthToken.id).where(condition)
                                  .order_by(OAuthToken.id).with_for_update()))
    if ids:
        db.session.execute(update(OAuthToken).where(OAuthToken.id.in_(ids))
                           .values(access_revoked_at=now, refresh_revoked_at=now)
                           .execution_options(synchronize_session=False))


def revoke_token(row: OAuthToken, presented: str) -> None:
    """Revoke the token ``presented``: an access token alone, or a refresh token together
    with its access token (RFC 7009 §2.1)."""
    now = clock.now()
    row.access_revoked_at = row.access_revoked_at or now
    if row.refresh_token_hash == digest(presented):
        row.refresh_revoked_at = row.refresh_revoked_at or now
    db.session.flush()
