"""Signing keys, service points, offline devices and the record of scans."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column


class SigningKey(db.Model):
    """An Ed25519 key that signs codes. Published in the JWKS from ``published_at`` until
    ``retired_at`` plus the longest code lifetime; signs from ``activates_at`` until retired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_column()
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by ``keys revoke`` for a key that leaked: out of the JWKS, and its codes refused.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ServicePoint(db.Model):
    """A counter terminal, gate or kiosk that scans codes (client-credentials client)."""

    __tablename__ = "service_points"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of a 256-bit random secret: a slow hash adds nothing to that much entropy.
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    purposes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Moved on by each disable; a token names the generation it was issued in, so the tokens
    # a client held when it was disabled never work again (app.clients).
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_column()


class Device(db.Model):
    """A phone registered for offline codes: it holds a TOTP seed and needs no network."""

    __tablename__ = "devices"

    id: Mapped[str] = id_column()
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    period: Mapped[int] = mapped_column(Integer, nullable=False)
    # The last time step accepted, so an offline code works once.
    last_step: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_column()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Scan(db.Model):
    """One accepted scan of a code: who scanned whom, when, why, and what was shared."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_person_created", "person_id", "created_at"),)

    id: Mapped[str] = id_column()
    service_point_id: Mapped[str] = mapped_column(ForeignKey("service_points.id"), nullable=False)
    subject_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(64), nullable=False)
    # "online" (a signed code) or "offline" (a device code).
    code_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    shared: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # What made the code single use: the signed code's cti in hex, or "<device>:<step>" for an
    # offline code. Unique, so a code is accepted at most once even when Redis, the fast gate
    # in front of this, has lost its marks.
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)


# Whose cached views a change reaches (app.changes): a scan is the scanned person's (what it
# shared is not on their screens); a service point's name is shown on many screens.
changes.watch(Scan, lambda s: changes.Touch(persons=(s.person_id,)), ignore=("shared",))
changes.watch(ServicePoint, lambda _: changes.EVERYONE)
