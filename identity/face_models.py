"""Enrolled faces: only the 128-d template, AES-GCM encrypted; never the image."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, created_column


class FaceTemplate(db.Model):
    """One enrolled face per person: 128 float64 values (1024 bytes), encrypted by the Vault
    with the person's id as context, so a template cannot be moved to another row."""

    __tablename__ = "face_templates"

    person_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    template_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # True when the enrolled face matched the portrait in the holder's resident-id credential.
    portrait_matched: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # When the person gave the separate biometric consent (at the latest enrolment).
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
