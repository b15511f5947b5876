"""Partner apps as the provider stores them: clients, codes, tokens, consents, subjects, keys.

Secrets are never stored as given: client secrets, codes and tokens are kept as SHA-256
digests (each is 256 random bits, so a fast digest is as good as a slow one), and the
ID-token signing keys are encrypted with the Vault, bound to their kid. Device codes and
scan-to-login sessions live in Redis (``identity.oidc.device``): they last minutes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import (
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

from core import clock
from core.extensions import db
from core.models import UTCDateTime, created_column

# The scopes this provider knows, in the order pages list them.
SUPPORTED_SCOPES = ("openid", "profile", "phone")
GRANT_TYPES = ("authorization_code", "refresh_token",
               "urn:ietf:params:oauth:grant-type:device_code")


def digest(secret: str) -> str:
    """The stored form of a client secret, code or token (hex SHA-256)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ClientRules(ClientMixin):
    """Authlib's questions about a partner app, answered from its registration: the model
    below and the per-worker snapshot of ``identity.oidc.service.get_client`` share them."""

    client_id: str
    name: str
    secret_hash: str
    redirect_uris: str
    scope: str
    sector: str
    generation: int

    @property
    def redirect_uri_list(self) -> list[str]:
        return json.loads(self.redirect_uris)

    @property
    def scope_list(self) -> list[str]:
        return scope_to_list(self.scope) or []

    @property
    def client_metadata(self) -> dict:
        return {}

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # OpenID Connect requires redirect_uri in every request: there is no default.
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.scope_list)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in GRANT_TYPES


@dataclass(frozen=True)
class ClientSnapshot(ClientRules):
    """A partner app's registration as plain values, safe to keep beyond a session."""

    client_id: str
    name: str
    secret_hash: str
    redirect_uris: str
    scope: str
    sector: str
    generation: int


class OAuthClient(db.Model, ClientRules):
    """A partner app (a confidential client: it authenticates with its secret)."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # JSON list of exact redirect URIs.
    redirect_uris: Mapped[str] = mapped_column(Text, nullable=False)
    # Space-separated scopes the partner may ask for.
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    # The pairwise subject's salt: one partner, one sector.
    sector: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = created_column()
    # An operator disables a partner (``flask --app wsgi partner disable``); each disable
    # moves the generation on, and codes and tokens of an older generation never work again.
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def snapshot(self) -> ClientSnapshot:
        return ClientSnapshot(self.client_id, self.name, self.secret_hash, self.redirect_uris,
                              self.scope, self.sector, self.generation)


class AuthorizationCode(db.Model):
    """An authorization code: single use, short-lived, bound to client, redirect URI and PKCE."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128), nullable=False)
    code_challenge_method: Mapped[str] = mapped_column(String(8), nullable=False)
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    acr: Mapped[str] = mapped_column(String(8), nullable=False)
    amr: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Set by the one exchange that may spend the code.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The client's generation when the code was made: a disable ends it.
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    # Authlib's AuthorizationCodeMixin (and the OpenID Connect one).
    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return self.acr

    def get_amr(self):
        return self.amr.split()


class OAuthToken(db.Model, TokenMixin):
    """An access token with its refresh token. A *family* is every pair one grant led to,
    through refreshes: reuse of a spent refresh token revokes the family."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    family: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    # The code whose exchange began the family, so that its reuse revokes the family.
    code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_in: Mapped[int] = mapped_column(Integer, nullable=False)
    refresh_expires_at: Mapped[int | None] = mapped_column(Integer)
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    acr: Mapped[str] = mapped_column(String(8), nullable=False)
    amr: Mapped[str] = mapped_column(String(64), nullable=False)
    access_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The client's generation when the pair was issued: a disable ends both tokens for good.
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (Index("ix_oauth_tokens_person_client", "person_id", "client_id"),)

    # Authlib's TokenMixin.
    def check_client(self, client):
        return self.client_id == client.get_client_id()

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return self.issued_at + self.expires_in < clock.timestamp()

    def is_revoked(self):
        return self.access_revoked_at is not None

    def get_client(self):
        """The token's client while it is active and in the token's generation, else None."""
        # ``identity.oidc.service.find_token`` reads it with the token, in the same query.
        client = getattr(self, "current_client", None)
        if client is None:
            from partners.service import get_client

            client = get_client(self.client_id)
        return client if client is not None and client.generation == self.generation else None

    def get_user(self):
        from partners.subjects import signed_in_subject

        return signed_in_subject(self.get_client(), self.person_id, self.auth_time, self.acr,
                                 self.amr.split())


class PartnerConsent(db.Model):
    """What a resident let one partner read: remembered until withdrawn."""

    __tablename__ = "oauth_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=False)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    granted_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()

    __table_args__ = (UniqueConstraint("person_id", "client_id",
                                       name="uq_oauth_consents_person_client"),)


class PairwiseSubject(db.Model):
    """The ``sub`` one partner sees for one person, kept so that a ``sub`` resolves back."""

    __tablename__ = "oauth_subjects"

    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = created_column()


class IdTokenKey(db.Model):
    """An RSA key that signs ID tokens (RS256). The newest key not retired signs; retired
    keys stay published for ``OIDC_RETIRED_KEY_SECONDS``."""

    __tablename__ = "oauth_signing_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8), nullable=False)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The public JWK as JSON.
    public_jwk: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_column()
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
