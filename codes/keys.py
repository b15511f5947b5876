"""The platform's code-signing keys: creation, rotation, the JWKS, and an in-process cache.

Life of a key: it is *published* (in the JWKS) from creation; it *signs* from ``activates_at``
until ``retired_at``; it stays published until ``retired_at + CODE_TTL_SECONDS +
CODE_LEEWAY_SECONDS``, when the last code it signed can no longer be accepted. The private
key is stored encrypted with the Vault, bound to its kid.

A key that leaked is *revoked* (``revoke_key``): it leaves the JWKS at once, no code it signed
verifies again, and another key signs (made on the spot if none could).

The keys live in a ``core.keystore.KeyStore``: each worker keeps a snapshot of the published
keys for at most ``CACHE_SECONDS`` (one second), so choosing the signing key and verifying a
code cost no query. A rotation therefore takes effect on every worker within a second; to keep
the JWKS window exact, an immediate rotation retires the old key one cache period after the
new one starts signing (both sign meanwhile), and a worker never signs with a cached key past
the ``retired_at`` it knows. A code naming a kid that the snapshot lacks triggers a reload at
once.
"""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta

from flask import current_app

from core import clock
from core.extensions import db
from core.keystore import CACHE_SECONDS, ED25519, KeySpec, KeyStore, ed25519_public_bytes
from codes.format import Claims, CodeSigner, Keyring, SignedCode
from codes.models import SigningKey

log = logging.getLogger(__name__)

KID_LENGTH = 6  # 30 bits; the QR code must stay at version 7, so every byte counts
# Serialises "create the first key" across PostgreSQL connections (an arbitrary constant).
_FIRST_KEY_LOCK = 0x0C0DE_0001


def _grace() -> timedelta:
    """How long a retired key stays published: its last code's lifetime plus the leeway."""
    cfg = current_app.config
    return timedelta(seconds=cfg["CODE_TTL_SECONDS"] + cfg["CODE_LEEWAY_SECONDS"])


_store = KeyStore(KeySpec(
    model=SigningKey,
    algorithm=ED25519,
    context="signing-key",
    kid_length=KID_LENGTH,
    public_columns=lambda kid, private: {"public_key": ed25519_public_bytes(private)},
    published_after_retirement=_grace,
    rotation_overlap=timedelta(seconds=CACHE_SECONDS),
    signer=CodeSigner,
    # Building a key object from 32 bytes costs microseconds; once a second is nothing.
    index=lambda entries: Keyring({entry.kid: entry.public for entry in entries}),
    first_key_lock=_FIRST_KEY_LOCK,
))


def create_key(activates_at: datetime | None = None) -> SigningKey:
    """A new Ed25519 signing key, added to the session and flushed. Signs from ``activates_at``
    (default now). Retries with a fresh kid on the unlikely collision of a random one."""
    return _store.create(activates_at)


def rotate_keys(activate_in: timedelta = timedelta(0)) -> SigningKey:
    """Create the next signing key, signing from now + ``activate_in``, and retire the others.

    The keys that would still sign after the new one starts get ``retired_at`` = that moment
    (at least one cache period from now, see the module docstring). Returns the new key.
    """
    new = _store.rotate(activate_in)
    log.info("signing key rotated",
             extra={"kid": new.kid, "activates_at": clock.rfc3339(new.activates_at)})
    return new


class UnknownSigningKey(LookupError):
    """``revoke_key`` was given a kid that no key has."""


def revoke_key(kid: str) -> tuple[SigningKey, SigningKey]:
    """Revoke a key that leaked: from now on it is out of the JWKS and none of its codes
    verifies (every worker within ``CACHE_SECONDS``). Flushed, not committed.

    Returns the revoked key and the key that signs now: the current one, or a new one made on
    the spot when the revoked key was the only one that could sign. Revoking a key twice
    keeps its first revocation. Raises ``UnknownSigningKey``.
    """
    key = _store.revoke(kid)
    if key is None:
        raise UnknownSigningKey(kid)
    signing = ensure_signing_key() or _store.signing_row()
    forget_cached_keys()
    log.warning("signing key revoked", extra={"kid": key.kid, "signing": signing.kid})
    return key, signing


def published_keys() -> list[SigningKey]:
    """The keys in the JWKS now, newest first: every key not revoked and not retired for
    longer than the lifetime of its last code (future keys included)."""
    return _store.published_rows()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk(key: SigningKey) -> dict:
    """The public JWK of a key (RFC 8037, OKP/Ed25519)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(key.public_key), "kid": key.kid,
            "alg": "EdDSA", "use": "sig"}


def jwks() -> dict:
    """The JWKS document: ``{"keys": [...]}`` of the published keys."""
    return {"keys": [jwk(key) for key in published_keys()]}


def forget_cached_keys() -> None:
    """Drop this worker's snapshot; the next use reloads from the database."""
    _store.forget()


def ensure_signing_key() -> SigningKey | None:
    """Create a signing key (flushed, not committed) when none can sign now; returns it, or
    None when one already could. On PostgreSQL a transaction-scoped advisory lock makes
    concurrent callers wait for the first, so they find its key instead of making another."""
    key = _store.ensure_signing_row()
    if key is not None:
        log.info("created a signing key on first need", extra={"kid": key.kid})
    return key


def _ensure_first_key() -> None:
    # A unit of work of its own (a fresh app context has a session of its own), committed at
    # once without committing the caller's: codes signed with the key leave this process
    # before the request ends, so the key must outlive the request whatever becomes of it.
    # SQLite serialises transactions, so while the caller holds one the key joins it instead.
    if db.engine.dialect.name == "sqlite" and db.session().in_transaction():
        ensure_signing_key()
        return
    with current_app.app_context():
        ensure_signing_key()
        db.session.commit()


def ensure_published_key() -> None:
    """Make and commit the first signing key when none signs yet, so the JWKS publishes a key
    before any code exists (a gate that syncs at deployment must know it). Called at start-up
    and by the JWKS route; costs nothing once the worker's snapshot has a signer."""
    if _store.snapshot().signer is None:
        _ensure_first_key()
        forget_cached_keys()


def is_published(kid: str) -> bool:
    """Whether a key with this kid verifies codes now (per this worker's snapshot; a kid it
    lacks is not worth a reload here)."""
    return kid in _store.snapshot()


def current_signer() -> CodeSigner:
    """The signer of the key that signs now, creating the first key when there is none."""
    found = _store.signing()
    if found is None:
        _ensure_first_key()
        found = _store.signing()
        if found is None:
            raise RuntimeError("no signing key is active")
    return found[1]


def key_id_of(signed: SignedCode) -> str:
    """The kid a parsed code names (``InvalidCode`` for a bad protected header)."""
    return _store.snapshot().index.key_id(signed)


def verify_signature(signed: SignedCode) -> tuple[Claims, float | None]:
    """Verify a parsed code against the published keys, reloading them once for an unknown kid.

    Returns the claims and the signing key's ``retired_at`` (seconds since the epoch, or
    None). Raises ``UnknownKey`` or ``InvalidCode``.
    """
    snapshot = _store.snapshot(knowing=key_id_of(signed))
    claims = snapshot.index.verify(signed)
    return claims, snapshot.retired_at(snapshot.index.key_id(signed))
