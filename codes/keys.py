"""The platform's code-signing keys: creation, rotation, the JWKS, and an in-process cache.

Life of a key: it is *published* (in the JWKS) from creation; it *signs* from ``activates_at``
until ``retired_at``; it stays published until ``retired_at + CODE_TTL_SECONDS +
CODE_LEEWAY_SECONDS``, when the last code it signed can no longer be accepted. The private
key is stored encrypted with the Vault, bound to its kid.

A key that leaked is *revoked* (``revoke_key``): it leaves the JWKS at once, no code it signed
verifies again, and another key signs (made on the spot if none could).

Each worker keeps a snapshot of the published keys for at most ``CACHE_SECONDS`` (one second),
so choosing the signing key and verifying a code cost no query. A rotation therefore takes
effect on every worker within a second; to keep the JWKS window exact, an immediate rotation
retires the old key one cache period after the new one starts signing (both sign meanwhile),
and a worker never signs with a cached key past the ``retired_at`` it knows. A code naming a
kid that the snapshot lacks triggers a reload at once.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import or_, select, text

from core import clock
from core.extensions import db
from core.ids import new_handle
from core.models import add_with_random_key
from codes.format import Claims, CodeSigner, Keyring, SignedCode, UnknownKey
from codes.models import SigningKey

log = logging.getLogger(__name__)

KID_LENGTH = 6  # 30 bits; the QR code must stay at version 7, so every byte counts
CACHE_SECONDS = 1.0
# Serialises "create the first key" across PostgreSQL connections (an arbitrary constant).
_FIRST_KEY_LOCK = 0x0C0DE_0001
_RAW = serialization.Encoding.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw
_RAW_PRIVATE = serialization.PrivateFormat.Raw


def _vault():
    return current_app.extensions["vault"]


def _context(kid: str) -> bytes:
    return f"signing-key:{kid}".encode()


def _grace() -> timedelta:
    """How long a retired key stays published: its last code's lifetime plus the leeway."""
    cfg = current_app.config
    return timedelta(seconds=cfg["CODE_TTL_SECONDS"] + cfg["CODE_LEEWAY_SECONDS"])


def create_key(activates_at: datetime | None = None) -> SigningKey:
    """A new Ed25519 signing key, added to the session and flushed. Signs from ``activates_at``
    (default now). Retries with a fresh kid on the unlikely collision of a random one."""
    def build() -> SigningKey:
        private = Ed25519PrivateKey.generate()
        kid = new_handle(KID_LENGTH)
        return SigningKey(
            kid=kid,
            private_key_enc=_vault().encrypt(
                private.private_bytes(_RAW, _RAW_PRIVATE, serialization.NoEncryption()),
                _context(kid)),
            public_key=private.public_key().public_bytes(_RAW, _RAW_PUBLIC),
            activates_at=activates_at or clock.now(),
        )

    return add_with_random_key(build)


def rotate_keys(activate_in: timedelta = timedelta(0)) -> SigningKey:
    """Create the next signing key, signing from now + ``activate_in``, and retire the others.

    The keys that would still sign after the new one starts get ``retired_at`` = that moment
    (at least one cache period from now, see the module docstring). Returns the new key.
    """
    now = clock.now()
    new = create_key(now + activate_in)
    retire_at = max(new.activates_at, now + timedelta(seconds=CACHE_SECONDS))
    others = db.session.scalars(select(SigningKey).where(
        SigningKey.kid != new.kid,
        or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > retire_at))).all()
    for key in others:
        key.retired_at = retire_at
    db.session.flush()
    forget_cached_keys()
    log.info("signing key rotated", extra={"kid": new.kid, "activates_at": clock.rfc3339(new.activates_at)})
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
    key = db.session.get(SigningKey, kid)
    if key is None:
        raise UnknownSigningKey(kid)
    now = clock.now()
    if key.revoked_at is None:
        key.revoked_at = now
    if key.retired_at is None or key.retired_at > now:
        key.retired_at = now
    db.session.flush()
    signing = ensure_signing_key() or _signing_key(now)
    forget_cached_keys()
    log.warning("signing key revoked", extra={"kid": key.kid, "signing": signing.kid})
    return key, signing


def _signing_key(now: datetime) -> SigningKey | None:
    return db.session.scalars(select(SigningKey).where(
        SigningKey.activates_at <= now, SigningKey.revoked_at.is_(None),
        or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now))
        .order_by(SigningKey.activates_at.desc(), SigningKey.kid).limit(1)).first()


def published_keys() -> list[SigningKey]:
    """The keys in the JWKS now, newest first: every key not revoked and not retired for
    longer than the lifetime of its last code (future keys included)."""
    cutoff = clock.now() - _grace()
    return list(db.session.scalars(
        select(SigningKey)
        .where(SigningKey.revoked_at.is_(None),
               or_(SigningKey.retired_at.is_(None), SigningKey.retired_at >= cutoff))
        .order_by(SigningKey.activates_at.desc(), SigningKey.kid)))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk(key: SigningKey) -> dict:
    """The public JWK of a key (RFC 8037, OKP/Ed25519)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(key.public_key), "kid": key.kid,
            "alg": "EdDSA", "use": "sig"}


def jwks() -> dict:
    """The JWKS document: ``{"keys": [...]}`` of the published keys."""
    return {"keys": [jwk(key) for key in published_keys()]}


# ----------------------------------------------------------------- the in-process snapshot

@dataclass
class _Snapshot:
    loaded_at: float  # time.monotonic(): how old the snapshot is, not business time
    keyring: Keyring
    # kid -> retired_at as seconds since the epoch, or None while the key is current.
    retired: dict[str, float | None]
    signer: CodeSigner | None = None
    signer_window: tuple[float, float | None] = (0.0, None)  # activates_at, retired_at


@dataclass
class _KeyCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    snapshot: _Snapshot | None = None
    # Decrypted signers by kid, so a reload does not decrypt the private key again.
    signers: dict[str, CodeSigner] = field(default_factory=dict)


def _cache() -> _KeyCache:
    cache = current_app.extensions.get("code_keys")
    if cache is None:
        cache = current_app.extensions.setdefault("code_keys", _KeyCache())
    return cache


def forget_cached_keys() -> None:
    """Drop this worker's snapshot; the next use reloads from the database."""
    cache = _cache()
    cache.snapshot = None
    cache.signers.clear()


def _signer_for(cache: _KeyCache, key: SigningKey) -> CodeSigner:
    signer = cache.signers.get(key.kid)
    if signer is None:
        raw = _vault().decrypt(key.private_key_enc, _context(key.kid))
        signer = CodeSigner(key.kid, Ed25519PrivateKey.from_private_bytes(raw))
        cache.signers = {key.kid: signer}  # only the current key's signer is worth keeping
    return signer


def _load(cache: _KeyCache) -> _Snapshot:
    keys = published_keys()
    now = clock.now()
    # Building a key object from 32 bytes costs microseconds; once a second is nothing.
    keyring = Keyring({key.kid: key.public_key for key in keys})
    signing = [k for k in keys if k.activates_at <= now and (k.retired_at is None or k.retired_at > now)]
    snapshot = _Snapshot(
        loaded_at=time.monotonic(),
        keyring=keyring,
        retired={k.kid: k.retired_at.timestamp() if k.retired_at else None for k in keys},
    )
    if signing:
        current = signing[0]  # newest activates_at first
        snapshot.signer = _signer_for(cache, current)
        snapshot.signer_window = (current.activates_at.timestamp(),
                                  current.retired_at.timestamp() if current.retired_at else None)
    cache.snapshot = snapshot
    return snapshot


def _snapshot(force: bool = False) -> _Snapshot:
    cache = _cache()
    snapshot = cache.snapshot
    if force or snapshot is None or time.monotonic() - snapshot.loaded_at > CACHE_SECONDS:
        with cache.lock:
            snapshot = _load(cache)
    return snapshot


def ensure_signing_key() -> SigningKey | None:
    """Create a signing key (flushed, not committed) when none can sign now; returns it, or
    None when one already could. On PostgreSQL a transaction-scoped advisory lock makes
    concurrent callers wait for the first, so they find its key instead of making another."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FIRST_KEY_LOCK})
    if _signing_key(clock.now()) is not None:
        return None
    key = create_key()
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
    if _snapshot().signer is None:
        _ensure_first_key()
        forget_cached_keys()


def is_published(kid: str) -> bool:
    """Whether a key with this kid verifies codes now (per this worker's snapshot)."""
    return kid in _snapshot().retired


def current_signer() -> CodeSigner:
    """The signer of the key that signs now, creating the first key when there is none."""
    snapshot = _snapshot()
    if snapshot.signer is not None:
        _, retired = snapshot.signer_window
        if retired is None or clock.timestamp() < retired:
            return snapshot.signer
        snapshot = _snapshot(force=True)
        if snapshot.signer is not None:
            return snapshot.signer
    _ensure_first_key()
    snapshot = _snapshot(force=True)
    if snapshot.signer is None:
        raise RuntimeError("no signing key is active")
    return snapshot.signer


def key_id_of(signed: SignedCode) -> str:
    """The kid a parsed code names (``InvalidCode`` for a bad protected header)."""
    return _snapshot().keyring.key_id(signed)


def verify_signature(signed: SignedCode) -> tuple[Claims, float | None]:
    """Verify a parsed code against the published keys, reloading them once for an unknown kid.

    Returns the claims and the signing key's ``retired_at`` (seconds since the epoch, or
    None). Raises ``UnknownKey`` or ``InvalidCode``.
    """
    snapshot = _snapshot()
    try:
        claims = snapshot.keyring.verify(signed)
    except UnknownKey:
        snapshot = _snapshot(force=True)
        claims = snapshot.keyring.verify(signed)
    return claims, snapshot.retired.get(snapshot.keyring.key_id(signed))
