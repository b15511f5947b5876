"""The signing CA, the keys that sign for residents and enterprises, and what was signed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, created_column, id_column

PERSON = "person"
ENTERPRISE = "enterprise"
KINDS = (PERSON, ENTERPRISE)


class SigningCA(db.Model):
    """One generation of the platform's signing CA: a root and the issuing CA it certified.

    Private keys are Vault-encrypted, bound to the generation. ``signing rotate`` retires a
    generation and wipes its keys; its certificates stay, so what it signed still verifies.
    """

    __tablename__ = "signing_cas"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_certificate: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # DER
    root_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    issuing_certificate: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # DER
    issuing_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_column()
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignerKey(db.Model):
    """The P-256 key that signs for one resident or one enterprise, kept in the Vault.

    ``serial`` is the opaque name a resident's certificates carry (X.520 serialNumber): random,
    stable for the person, never derived from the ID number.
    """

    __tablename__ = "signer_keys"

    owner: Mapped[str] = mapped_column(String(48), primary_key=True)  # "person:<id>" ...
    serial: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_column()


class Signature(db.Model):
    """A signature or seal made here: the evidence's index (the audit chain holds the record)."""

    __tablename__ = "signatures"
    __table_args__ = (Index("ix_signatures_person", "person_id", "signed_at"),
                      Index("ix_signatures_document", "document_sha256"))

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Who signed, or which member sealed for ``enterprise_id``.
    person_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("persons.id", ondelete="RESTRICT"), nullable=False)
    enterprise_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("enterprises.id", ondelete="RESTRICT"))
    original_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    document_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    certificate_serial: Mapped[str] = mapped_column(String(40), nullable=False)
    ca_generation: Mapped[int] = mapped_column(
        Integer, ForeignKey("signing_cas.generation", ondelete="RESTRICT"), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
