"""Enterprises (法人) and the residents who act for them.

An enterprise's USCC is kept like an ID number: AES-GCM encrypted, found by the keyed HMAC
that the wallet files its business licences under, so the licence and the enterprise meet
without a plaintext column.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column

ADMIN = "admin"
STAFF = "staff"
ROLES = (ADMIN, STAFF)

SHOW_CODE = "show-code"
WALLET_READ = "wallet:read"
CONSENT = "consent"
MANAGE_MEMBERS = "manage-members"
SEAL = "seal"  # seal documents with the enterprise's electronic seal (signatures/)
SCOPES = (SHOW_CODE, WALLET_READ, CONSENT, MANAGE_MEMBERS, SEAL)


class Enterprise(db.Model):
    __tablename__ = "enterprises"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    uscc_index: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    uscc_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The code's `sub`, as a person's handle: short, random, never derived from the USCC.
    handle: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    # The resident who registered it; once a valid business licence names them as legal
    # representative the enterprise is verified and they hold every scope.
    registered_by: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The end of the naming licence's validity (None: open-ended): past it the enterprise
    # reads as unverified with no event needed.
    verified_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_column()

    kind = "enterprise"


class EnterpriseMember(db.Model):
    """A resident delegated to act for an enterprise. One row per (enterprise, person):
    adding a revoked member again reopens the row with the new role, scopes and expiry."""

    __tablename__ = "enterprise_members"
    __table_args__ = (UniqueConstraint("enterprise_id", "person_id"),
                      Index("ix_enterprise_members_person", "person_id"))

    id: Mapped[str] = id_column()
    enterprise_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("enterprises.id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    scopes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()


# Whose cached views a change reaches (core.changes): an enterprise's members see its
# consent requests while it is verified.
changes.watch(EnterpriseMember, lambda m: changes.Touch(persons=(m.person_id,)))
changes.watch(Enterprise, lambda e: changes.Touch(queries=(
    select(EnterpriseMember.person_id).where(EnterpriseMember.enterprise_id == e.id),)))
