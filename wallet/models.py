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
    select,
    union,
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


def answerers(person_id: str, scan_id: str) -> changes.Touch:
    """Who sees a consent request (mirrors identity.shown_codes.answerable, widely): the
    holder, whoever acts for the holder, and the members of an enterprise whose code was
    scanned; one query."""
    from enterprises.models import EnterpriseMember, Proxy, ScanPresenter

    return changes.Touch(persons=(person_id,), queries=(union(
        select(Proxy.proxy_id).where(Proxy.principal_id == person_id),
        select(EnterpriseMember.person_id)
        .join(ScanPresenter, ScanPresenter.enterprise_id == EnterpriseMember.enterprise_id)
        .where(ScanPresenter.scan_id == scan_id)),))


# Whose cached views a change reaches (app.changes): a credential is its holder's, a consent
# request its answerers'; issuers' and types' names are shown on many screens.
changes.watch(Credential, lambda c: changes.Touch(holders=(c.holder_index,)))
changes.watch(MaterialRequest, lambda r: answerers(r.person_id, r.scan_id))
for _shared in (Issuer, CredentialType):
    changes.watch(_shared, lambda _: changes.EVERYONE)
