"""Family proxies (亲情账号), and who showed a code that was not simply their own."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column

INVITED = "invited"
ACTIVE = "active"
ENDED = "ended"
RELATIONS = ("parent", "child", "spouse", "guardian", "other")


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


# Whose cached views a change reaches (core.changes): both sides of a proxy see the other's
# consent requests.
changes.watch(Proxy, lambda p: changes.Touch(persons=(p.proxy_id, p.principal_id)))
