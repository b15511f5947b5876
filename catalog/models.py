"""Service items (事项), one-thing bundles (一件事), applications, policies (免申即享), the
people each policy found, and the notices that tell them.

Policy matches are keyed by ``holder_index`` (the keyed HMAC of the ID number, as credentials
are), so that a policy found for someone before they register is in their list the moment
they do, like the credentials it was found from.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column


class ServiceItem(db.Model):
    """One service item with its standard elements: one item, one standard, everywhere."""

    __tablename__ = "service_items"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    department: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    conditions: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    steps: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # Working days from a complete application to the answer; 0 means on the spot.
    time_limit_days: Mapped[int] = mapped_column(nullable=False, default=0)
    fee: Mapped[str] = mapped_column(String(128), nullable=False, default="free")
    # Credential types (``vct``) the item needs as materials.
    materials: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # The one form: [{name, label, credential?, claim?}]; a field with a credential and a claim
    # is filled from the holder's valid credential of that type.
    form: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    guide: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Bundle(db.Model):
    """A "one thing" (一件事): several items handled as one application."""

    __tablename__ = "bundles"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Item codes, in the order the departments handle them.
    items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


DRAFT = "draft"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
REJECTED = "rejected"
COMPLETED = "completed"
STATUSES = (DRAFT, SUBMITTED, ACCEPTED, REJECTED, COMPLETED)
IN_PROGRESS = (DRAFT, SUBMITTED, ACCEPTED)


class Application(db.Model):
    """One application with one form, for an item or a whole bundle."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_person_created", "person_id", "created_at"),
                      # A department's work queue (catalog.applications.department_queue).
                      Index("ix_applications_item_status_created", "item_code", "status", "created_at"),
                      Index("ix_applications_bundle_status_created", "bundle_code", "status", "created_at"))

    id: Mapped[str] = id_column()
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    item_code: Mapped[str | None] = mapped_column(ForeignKey("service_items.code"))
    bundle_code: Mapped[str | None] = mapped_column(ForeignKey("bundles.code"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT)
    form: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    missing: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # [{status, at, note?}], oldest first.
    timeline: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # At submission: the credentials shared with the departments, [{type, credential_id}].
    shared: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()


class Policy(db.Model):
    """A policy (免申即享) published by an issuer: ``rules`` over credential claims that must
    all hold; everyone they hold for finds it without applying."""

    __tablename__ = "policies"

    id: Mapped[str] = id_column()
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    benefit: Mapped[str] = mapped_column(String(500), nullable=False)
    rules: Mapped[list] = mapped_column(JSON, nullable=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_column()
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


FOUND = "found"
TAKEN_UP = "accepted"
LAPSED = "lapsed"


class PolicyMatch(db.Model):
    """A policy found for a holder. ``lapsed`` once they no longer qualify (unless taken up);
    found again when they do."""

    __tablename__ = "policy_matches"
    __table_args__ = (
        UniqueConstraint("policy_id", "holder_index", name="uq_policy_matches_policy_holder"),
        Index("ix_policy_matches_holder_status", "holder_index", "status"),
    )

    id: Mapped[str] = id_column()
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), nullable=False)
    holder_index: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=FOUND)
    found_at: Mapped[datetime] = created_column()
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notice(db.Model):
    """A message for the phone app: an application moved, a policy was found for me."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_person_created", "person_id", "created_at"),)

    id: Mapped[str] = id_column()
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    text: Mapped[str] = mapped_column(String(500), nullable=False)
    # The application or policy the notice is about (an opaque id).
    ref: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_column()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Whose cached views a change reaches (app.changes): applications and notices are their
# person's, a policy found is its holder's; the catalogue and policies are everyone's.
changes.watch(Application, lambda a: changes.Touch(persons=(a.person_id,)))
changes.watch(Notice, lambda n: changes.Touch(persons=(n.person_id,)))
changes.watch(PolicyMatch, lambda m: changes.Touch(holders=(m.holder_index,)))
changes.watch(Policy, lambda _: changes.EVERYONE, ignore=("evaluated_at",))
for _shared in (ServiceItem, Bundle):
    changes.watch(_shared, lambda _: changes.EVERYONE)
