"""Persons (natural persons, 自然人) as the platform stores them.

ID and phone numbers are kept AES-GCM encrypted, found by a keyed HMAC, and shown masked.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column

ACTIVE = "active"
SUSPENDED = "suspended"


class Person(db.Model):
    __tablename__ = "persons"

    id: Mapped[str] = id_column()
    # The code's `sub`: short, random, unique, never derived from the ID number.
    handle: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_masked: Mapped[str] = mapped_column(String(18), nullable=False)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    phone_masked: Mapped[str] = mapped_column(String(16), nullable=False)
    birthdate: Mapped[date] = mapped_column(Date, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # The last TOTP time step accepted: each one-time password works once.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE, nullable=False)
    assurance_level: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    kind = "person"


# Whose cached views a change reaches (app.changes): the profile is the person's own.
changes.watch(Person, lambda p: changes.Touch(persons=(p.id,)))
