"""Issuers: departments that issue credentials, as client-credentials clients with their
own signing keys; and the trust list that names them, their types and their public keys."""
from __future__ import annotations


from sqlalchemy import select

from core import clock, signals
from core.errors import NotFound
from core.extensions import db
from core.ids import new_handle, new_id
from core.clients import (
    check_secret,
    hash_secret,
    new_secret,
    register_kind,
    set_active,
    token_claims,
)
from core.tokens import client_token
from wallet import keys
from wallet.errors import UnknownType
from wallet.models import CredentialType, Issuer, IssuerKey

CLIENT_KIND = "issuer"


def create_issuer(name: str, types: list[str], policy_publisher: bool = False, *,
                  client_id: str | None = None, client_secret: str | None = None) -> tuple[Issuer, str]:
    """Create an issuer allowed to issue ``types``, with its first signing key.

    Returns the issuer and its client secret (shown once; only its hash is stored).
    ``client_id`` and ``client_secret`` may be given (the demo seed derives them), else they
    are random. Raises ``UnknownType`` naming any type that is not in the catalogue.
    """
    unknown = sorted(set(types) - set(db.session.scalars(
        select(CredentialType.vct).where(CredentialType.vct.in_(types)))))
    if unknown:
        raise UnknownType("Unknown credential types: %(types)s.",
                          params={"types": ", ".join(unknown)})
    secret = client_secret or new_secret()
    issuer = Issuer(id=new_id(), client_id=client_id or "is_" + new_handle(16),
                    secret_hash=hash_secret(secret),
                    name=name, types=sorted(set(types)), policy_publisher=policy_publisher,
                    active=True, generation=0, created_at=clock.now())
    db.session.add(issuer)
    db.session.flush()
    keys.create_key(issuer.id)
    return issuer, secret


def get_issuer_by_client_id(client_id: str) -> Issuer | None:
    return db.session.scalars(select(Issuer).where(Issuer.client_id == client_id)).one_or_none()


def issue_token(client_id: str, client_secret: str) -> dict:
    """``{access_token, token_type, expires_in}`` for an active issuer; ``InvalidClient``."""
    issuer = check_secret(get_issuer_by_client_id(client_id), client_secret)
    return client_token(issuer.id, CLIENT_KIND, token_claims(issuer))


def get_issuer(issuer_id: str) -> Issuer | None:
    return db.session.get(Issuer, issuer_id)


def set_enabled(client_id: str, enabled: bool) -> Issuer | None:
    """Enable or disable the issuer with this client id (``app.clients.set_active``:
    disabling ends every token it holds, at once and for good); None when there is none.
    What it issued stays valid: revoking credentials is a separate decision."""
    issuer = get_issuer_by_client_id(client_id)
    if issuer is not None:
        set_active(issuer, enabled, CLIENT_KIND)
        db.session.flush()
    return issuer


def issuer_url(base_url: str, issuer_id: str) -> str:
    """The issuer identifier (``iss``) of an issuer, as named in the trust list."""
    return f"{base_url}/api/v1/issuers/{issuer_id}"


def issuer_from_url(iss) -> Issuer | None:
    """The issuer an ``iss`` names (by its id; the host may differ behind proxies)."""
    if not isinstance(iss, str) or "/api/v1/issuers/" not in iss:
        return None
    return db.session.get(Issuer, iss.rsplit("/api/v1/issuers/", 1)[1])


def _trust_entry(base_url: str, issuer: Issuer, issuer_keys: list[IssuerKey]) -> dict:
    return {"id": issuer_url(base_url, issuer.id), "name": issuer.name, "types": issuer.types,
            "active": issuer.active, "jwks": keys.jwks(issuer_keys)}


def trust_list(base_url: str) -> dict:
    """Every issuer with its types and public keys (current and retired), and the platform's
    status-list keys."""
    issuers = db.session.scalars(select(Issuer).order_by(Issuer.created_at, Issuer.id)).all()
    by_issuer: dict[str | None, list] = {}
    for key in db.session.scalars(select(IssuerKey).order_by(IssuerKey.created_at.desc())):
        by_issuer.setdefault(key.issuer_id, []).append(key)
    return {
        "issuers": [_trust_entry(base_url, i, by_issuer.get(i.id, [])) for i in issuers],
        "platform": {"id": base_url, "jwks": keys.jwks(by_issuer.get(None, []))},
        "signing": signals.signing_ca_entry(base_url),
    }


def trust_entry(base_url: str, issuer_id: str) -> dict:
    """One issuer's entry of the trust list (what its ``iss`` URL answers); ``NotFound``."""
    issuer = db.session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound()
    return _trust_entry(base_url, issuer, keys.keys_of(issuer.id))


# The bearer check loads an issuer's row by its token's ``sub`` (app.clients); the issuing
# and department services read it again from the session's identity map.
register_kind(CLIENT_KIND, get_issuer)
