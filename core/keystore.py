"""Signing keys kept in a table, for any domain: creation, rotation, revocation, the Vault
binding of each private key to its kid, and each worker's snapshot of the published keys.

A domain describes its keys with a ``KeySpec`` (the table, the algorithm, the Vault context,
how long a retired key stays published ...) and makes one ``KeyStore`` of it. The table has
``kid``, ``private_key_enc``, ``created_at`` and ``retired_at``; ``activates_at``,
``revoked_at`` and an owner column are used when the spec names them.

The life of a key:

- *published* from creation until ``retired_at`` + ``spec.published_after_retirement()``
  (for ever when that is None), unless it is revoked;
- *signing* from ``activates_at`` (its creation, for a table without that column) until
  ``retired_at``; of those, the newest signs;
- *retired* by ``rotate``, which makes the next key and retires the others when it starts
  signing, or ``rotation_overlap`` from now when that is later;
- *revoked* (tables with ``revoked_at``) by ``revoke``: unpublished and retired at once.

The caching rule, one for every store: each worker (each application in the process) keeps a
snapshot of the published keys, used while it is less than ``CACHE_SECONDS`` old by both the
monotonic clock and the business clock (``core.clock``, which tests move). Asked for a kid it
does not hold (``snapshot(knowing=kid)``), or for the signing key past the retirement it knows
(``signing()``), it reloads at once. One thread reloads at a time; a thread that waited for
that reload uses it. The signing key's decrypted private key is kept across reloads.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app, has_app_context
from sqlalchemy import or_, select, text

from core import clock
from core.crypto import vault
from core.extensions import db
from core.ids import new_handle
from core.models import add_with_random_key

CACHE_SECONDS = 1.0
_ALL = object()  # every owner's keys


# ------------------------------------------------------------------ private keys at rest

def context(prefix: str, kid: str) -> bytes:
    """The associated data that binds an encrypted private key to its kid."""
    return f"{prefix}:{kid}".encode()


def seal(prefix: str, kid: str, private: bytes) -> bytes:
    """A private key encrypted with the Vault, bound to ``prefix:kid``."""
    return vault().encrypt(private, context(prefix, kid))


def unseal(prefix: str, kid: str, blob: bytes) -> bytes:
    """The private key that ``seal`` encrypted; ``DecryptionError`` under any other kid."""
    return vault().decrypt(blob, context(prefix, kid))


@dataclass(frozen=True)
class Algorithm:
    """How keys of one algorithm are made and stored (``dump``) and read back (``load``)."""

    name: str  # the JOSE ``alg``
    generate: Callable[[], Any]
    dump: Callable[[Any], bytes]
    load: Callable[[bytes], Any]


ED25519 = Algorithm(
    "EdDSA", Ed25519PrivateKey.generate,
    lambda key: key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption()),
    Ed25519PrivateKey.from_private_bytes)

RS256 = Algorithm(
    "RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda key: key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
    lambda pem: serialization.load_pem_private_key(pem, password=None))


def ed25519_public_bytes(private: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of an Ed25519 private key's public key."""
    return private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class KeySpec:
    """What a domain tells the store about its keys."""

    model: type
    algorithm: Algorithm
    context: str  # the Vault context is ``f"{context}:{kid}"``
    # The columns of a new row besides the store's own: (kid, private key) -> {column: value}.
    public_columns: Callable[[str, Any], dict]
    kid_length: int = 12
    # A row -> the public key its snapshot entry holds.
    public: Callable[[Any], Any] = lambda row: row.public_key
    # How long a retired key stays published; None: for ever. Read when asked (config).
    published_after_retirement: Callable[[], timedelta] | None = None
    # How long a rotated-out key keeps signing beside the new one (workers' caches).
    rotation_overlap: timedelta = timedelta(0)
    owner: str | None = None  # the column that says whose key a row is
    # (kid, private key) -> what the snapshot hands out to sign with.
    signer: Callable[[str, Any], Any] = lambda kid, private: private
    # The published entries (newest first) -> an index built once per snapshot.
    index: Callable[[list["KeyEntry"]], Any] | None = None
    # A PostgreSQL advisory lock that serialises making the first signing key.
    first_key_lock: int | None = None


# ------------------------------------------------------------------ the snapshot

@dataclass(frozen=True)
class KeyEntry:
    """A published key as a snapshot holds it; times in seconds since the epoch."""

    kid: str
    public: Any
    activates_at: float | None  # None: since it was made
    retired_at: float | None

    def signs_at(self, moment: float) -> bool:
        return ((self.activates_at is None or self.activates_at <= moment)
                and (self.retired_at is None or moment < self.retired_at))


@dataclass
class Snapshot:
    """The published keys as one worker saw them at ``loaded_at``."""

    entries: dict[str, KeyEntry]  # newest first
    signing: KeyEntry | None
    signer: Any  # the signing key's ``spec.signer``, or None
    index: Any
    loaded_at: float  # business time (core.clock)
    started: float  # monotonic() when its load began
    serial: int  # the slot's count of loads when this one began

    def __contains__(self, kid: str) -> bool:
        return kid in self.entries

    def retired_at(self, kid: str) -> float | None:
        entry = self.entries.get(kid)
        return None if entry is None else entry.retired_at

    def fresh(self) -> bool:
        age = clock.timestamp() - self.loaded_at
        return 0 <= age < CACHE_SECONDS and monotonic() - self.started < CACHE_SECONDS


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)  # one reload at a time
    guard: threading.Lock = field(default_factory=threading.Lock)  # swaps below
    snapshot: Snapshot | None = None
    generation: int = 0  # bumped by forget(): a load begun before is not kept
    serial: int = 0  # loads begun
    signers: dict[str, Any] = field(default_factory=dict)  # kid -> decrypted signer


# ------------------------------------------------------------------ the store

class KeyStore:
    """One table of signing keys (see the module docstring)."""

    def __init__(self, spec: KeySpec):
        self.spec = spec
        self.model = spec.model
        self._activates = getattr(spec.model, "activates_at", None)
        self._revoked = getattr(spec.model, "revoked_at", None)
        self._slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._slots_lock = threading.Lock()

    # Private keys -----------------------------------------------------------------------

    def encrypt(self, kid: str, private: bytes) -> bytes:
        return seal(self.spec.context, kid, private)

    def decrypt(self, kid: str, blob: bytes) -> bytes:
        return unseal(self.spec.context, kid, blob)

    def private_key(self, row) -> Any:
        """A row's private key, decrypted and loaded with the spec's algorithm."""
        return self.spec.algorithm.load(self.decrypt(row.kid, row.private_key_enc))

    # Rows, in the caller's transaction ------------------------------------------------------

    def _owned(self, owner) -> list:
        if owner is _ALL or self.spec.owner is None:
            return []
        column = getattr(self.model, self.spec.owner)
        return [column.is_(None) if owner is None else column == owner]

    def _order(self) -> tuple:
        newest = self._activates if self._activates is not None else self.model.created_at
        return newest.desc(), self.model.kid

    def create(self, activates_at: datetime | None = None, owner=_ALL):
        """A new key, added and flushed; signs from ``activates_at`` (default now) where the
        table says when keys activate. A fresh kid is drawn on the rare collision."""
        spec = self.spec
        now = clock.now()

        def build():
            private = spec.algorithm.generate()
            kid = new_handle(spec.kid_length)
            row = spec.model(kid=kid, created_at=now,
                             private_key_enc=self.encrypt(kid, spec.algorithm.dump(private)),
                             **spec.public_columns(kid, private))
            if self._activates is not None:
                row.activates_at = activates_at or now
            if spec.owner is not None and owner is not _ALL:
                setattr(row, spec.owner, owner)
            return row

        return add_with_random_key(build)

    def _activation(self, row) -> datetime:
        return row.activates_at if self._activates is not None else row.created_at

    def rotate(self, activate_in: timedelta = timedelta(0), owner=_ALL):
        """Make the next key, signing from now + ``activate_in``, and retire the others (of
        the owner) when it starts, or ``rotation_overlap`` from now if later. Flushed."""
        if activate_in and self._activates is None:
            raise ValueError(f"{self.model.__name__} keys sign from their creation")
        now = clock.now()
        new = self.create(now + activate_in, owner=owner)
        retire_at = max(self._activation(new), now + self.spec.rotation_overlap)
        others = db.session.scalars(select(self.model).where(
            self.model.kid != new.kid, *self._owned(owner),
            or_(self.model.retired_at.is_(None), self.model.retired_at > retire_at))).all()
        for key in others:
            key.retired_at = retire_at
        db.session.flush()
        self.forget()
        return new

    def revoke(self, kid: str):
        """Unpublish and retire a key now (a second revocation keeps the first). Flushed.
        Returns the row, or None when no key has this kid."""
        if self._revoked is None:
            raise ValueError(f"{self.model.__name__} keys cannot be revoked")
        key = db.session.get(self.model, kid)
        if key is None:
            return None
        now = clock.now()
        if key.revoked_at is None:
            key.revoked_at = now
        if key.retired_at is None or key.retired_at > now:
            key.retired_at = now
        db.session.flush()
        self.forget()
        return key

    def signing_row(self, at: datetime | None = None, owner=_ALL):
        """The key that signs at ``at`` (default now), or None."""
        at = at or clock.now()
        where = [*self._owned(owner),
                 or_(self.model.retired_at.is_(None), self.model.retired_at > at)]
        if self._activates is not None:
            where.append(self._activates <= at)
        if self._revoked is not None:
            where.append(self._revoked.is_(None))
        return db.session.scalars(
            select(self.model).where(*where).order_by(*self._order()).limit(1)).first()

    def published_rows(self, owner=_ALL) -> list:
        """The keys published now, newest first (keys to come included)."""
        where = self._owned(owner)
        if self._revoked is not None:
            where.append(self._revoked.is_(None))
        if self.spec.published_after_retirement is not None:
            cutoff = clock.now() - self.spec.published_after_retirement()
            where.append(or_(self.model.retired_at.is_(None), self.model.retired_at >= cutoff))
        return list(db.session.scalars(
            select(self.model).where(*where).order_by(*self._order())))

    def rows(self, owner=_ALL) -> list:
        """Every key, published or not, newest first."""
        return list(db.session.scalars(
            select(self.model).where(*self._owned(owner)).order_by(*self._order())))

    def ensure_signing_row(self):
        """Make a key (flushed, not committed) when none signs now; returns it, or None when
        one already does. With ``first_key_lock`` on PostgreSQL, a transaction-scoped
        advisory lock makes concurrent callers wait for the first and find its key."""
        if self.spec.first_key_lock is not None and db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                               {"k": self.spec.first_key_lock})
        if self.signing_row() is not None:
            return None
        return self.create()

    # This worker's snapshot ---------------------------------------------------------------

    def _slot(self) -> _Slot:
        app = current_app._get_current_object()
        slot = self._slots.get(app)
        if slot is None:
            with self._slots_lock:
                slot = self._slots.setdefault(app, _Slot())
        return slot

    def forget(self) -> None:
        """Drop the snapshot; the next use reloads. Outside an application context, every
        application's."""
        if has_app_context():
            slots = [self._slot()]
        else:
            with self._slots_lock:
                slots = list(self._slots.values())
        for slot in slots:
            with slot.guard:
                slot.generation += 1
                slot.snapshot = None
                slot.signers = {}

    def snapshot(self, knowing: str | None = None, force: bool = False) -> Snapshot:
        """The published keys as this worker knows them: reloaded when older than the rule
        allows, when ``force``, or at once when it lacks the kid ``knowing``."""
        slot = self._slot()
        held = slot.snapshot
        if not force and _usable(held, knowing):
            return held
        asked = slot.serial
        with slot.lock:
            current = slot.snapshot
            if current is not None and (current.serial > asked or (
                    not force and current is not held and _usable(current, knowing))):
                return current  # reloaded by another thread meanwhile
            return self._load(slot)

    def signing(self) -> tuple[KeyEntry, Any] | None:
        """The key that signs now and its signer, from the snapshot; reloaded at once when the
        snapshot has none or its signing key is retired by now. None: no key signs."""
        snapshot = self.snapshot()
        entry = snapshot.signing
        if entry is None or not entry.signs_at(clock.timestamp()):
            snapshot = self.snapshot(force=True)
            entry = snapshot.signing
        return None if entry is None else (entry, snapshot.signer)

    def _entry(self, row) -> KeyEntry:
        activates = row.activates_at.timestamp() if self._activates is not None else None
        retired = row.retired_at.timestamp() if row.retired_at is not None else None
        return KeyEntry(row.kid, self.spec.public(row), activates, retired)

    def _load(self, slot: _Slot) -> Snapshot:
        if self.spec.owner is not None:
            raise TypeError("a snapshot holds one signing key: not for keys with owners")
        generation = slot.generation
        slot.serial += 1  # under slot.lock
        serial = slot.serial
        started = monotonic()
        loaded_at = clock.timestamp()
        rows = self.published_rows()
        entries = {row.kid: self._entry(row) for row in rows}
        signing = next((entry for entry in entries.values() if entry.signs_at(loaded_at)), None)
        signer = None
        if signing is not None:
            signer = slot.signers.get(signing.kid)
            if signer is None:
                row = next(row for row in rows if row.kid == signing.kid)
                signer = self.spec.signer(row.kid, self.private_key(row))
        index = self.spec.index(list(entries.values())) if self.spec.index else None
        snapshot = Snapshot(entries, signing, signer, index, loaded_at, started, serial)
        with slot.guard:
            if slot.generation == generation:
                slot.snapshot = snapshot
                # Only the signing key's private key is worth keeping.
                slot.signers = {signing.kid: signer} if signing is not None else {}
        return snapshot


def _usable(snapshot: Snapshot | None, knowing: str | None) -> bool:
    return (snapshot is not None and snapshot.fresh()
            and (knowing is None or knowing in snapshot))
