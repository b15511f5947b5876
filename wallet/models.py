"""Issuers and their keys, credential types, credentials, status lists and material requests.

A credential is found by ``holder_index``: the keyed HMAC of the holder's ID number (or USCC),
the same digest that ``persons.id_number_index`` holds. A credential issued before its holder
registers therefore lands in the wallet the moment they do, with nothing to move.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import changes
from core.extensions import db
from core.models import UTCDateTime, created_column, id_column

CARD = "card"
CERTIFICATE = "certificate"
KINDS = (CARD, CERTIFICATE)


class Issuer(db.Model):
    """A department that issues credentials (client-credentials client)."""

    __tablename__ = "issuers"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of a 256-bit random secret, as for service points.
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    types: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    policy_publisher: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Moved on by each disable; a token names the generation it was issued in, so the tokens
    # a client held when it was disabled never work again (app.clients).
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_column()


class IssuerKey(db.Model):
    """An Ed25519 signing key. ``issuer_id`` None: the platform's own key (status lists).

    The newest key not retired signs; retired keys stay published so that what they signed
    keeps verifying."""

    __tablename__ = "issuer_keys"
    __table_args__ = (Index("ix_issuer_keys_issuer_created", "issuer_id", "created_at"),)

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    issuer_id: Mapped[str | None] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_column()
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CredentialType(db.Model):
    """A kind of card or certificate: its ``vct`` and the claims it carries."""

    __tablename__ = "credential_types"

    vct: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    claims: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    required: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_column()


class HolderKey(db.Model):
    """The P-256 key that a holder's credentials name in ``cnf``, kept for the holder.

    Keyed by the holder index, so it exists before the holder registers."""

    __tablename__ = "holder_keys"

    holder_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    public_jwk: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = created_column()


class StatusList(db.Model):
    """A Token Status List of ``size`` one-bit entries; the bits are the revoked credentials."""

    __tablename__ = "status_lists"

    id: Mapped[str] = id_column()
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    # Set once random picks keep landing on used entries; a new list takes over.
    full: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = created_column()


class Credential(db.Model):
    """An issued SD-JWT VC. The SD-JWT carries personal data, so it is stored encrypted."""

    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_idx", name="uq_credentials_status_entry"),
        Index("ix_credentials_holder_vct", "holder_index", "vct"),
    )

    id: Mapped[str] = id_column()
    vct: Mapped[str] = mapped_column(ForeignKey("credential_types.vct"), nullable=False)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id"), nullable=False, index=True)
    holder_index: Mapped[str] = mapped_column(String(64), nullable=False)
    sd_jwt_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status_list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"), nullable=False)
    status_idx: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_at: Mapped[datetime] = created_column()
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)


# Whose cached views a change reaches (core.changes): a credential is its holder's; issuers'
# and types' names are shown on many screens.
changes.watch(Credential, lambda c: changes.Touch(holders=(c.holder_index,)))
for _shared in (Issuer, CredentialType):
    changes.watch(_shared, lambda _: changes.EVERYONE)
