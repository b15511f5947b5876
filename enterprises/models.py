"""Enterprises (法人), the residents who act for them, and family proxies (亲情账号).

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
SCOPES = (SHOW_CODE, WALLET_READ, CONSENT, MANAGE_MEMBERS)

INVITED = "invited"
ACTIVE = "active"
ENDED = "ended"
RELATIONS = ("parent", "child", "spouse", "guardian", "other")


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


class Proxy(db.Model):
    """``proxy_id`` acts for ``principal_id`` (the inviter acts for the invited) once the
    principal, or for a minor a proven guardian (``accepted_by``), accepts."""

    __tablename__ = "proxies"
    __table_args__ = (Index("ix_proxies_proxy_status", "proxy_id", "status"),
                      Index("ix_proxies_principal_status", "principal_id", "status"))

    id: Mapped[str] = id_column()
    proxy_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    principal_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    relation: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=INVITED)
    accepted_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_column()


class ScanPresenter(db.Model):
    """Who showed a code that was not simply their own: a member showing an enterprise's
    code (``enterprise_id`` set, the scan's subject is the enterprise) or a proxy showing the
    code of the person they act for (the scan's subject is that person)."""

    __tablename__ = "scan_presenters"

    scan_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    presenter_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True)
    proxy_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("proxies.id", ondelete="SET NULL"))


# Whose cached views a change reaches (app.changes). Both sides of a proxy see the other's
# consent requests; an enterprise's members see its requests while it is verified.
changes.watch(Proxy, lambda p: changes.Touch(persons=(p.proxy_id, p.principal_id)))
changes.watch(EnterpriseMember, lambda m: changes.Touch(persons=(m.person_id,)))
changes.watch(Enterprise, lambda e: changes.Touch(queries=(
    select(EnterpriseMember.person_id).where(EnterpriseMember.enterprise_id == e.id),)))
