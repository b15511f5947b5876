"""Material requests: a service point's request after a scan, and the holder's consent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column
from delegation.answering import answerers

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
EXPIRED = "expired"


class MaterialRequest(db.Model):
    """A service point's request, after a scan, for the holder's materials; the holder's
    answer to it is the consent. ``consent_id`` is the holder's handle on it, ``id`` the
    service point's, so neither side's URL names the other's."""

    __tablename__ = "material_requests"
    __table_args__ = (Index("ix_material_requests_person_status", "person_id", "status"),)

    id: Mapped[str] = id_column()
    consent_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    service_point_id: Mapped[str] = mapped_column(ForeignKey("service_points.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(64), nullable=False)
    types: Mapped[list] = mapped_column(JSON, nullable=False)
    missing: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the materials were first handed over (recorded on the scan once).
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


changes.watch(MaterialRequest, lambda r: answerers(r.person_id, r.scan_id))
