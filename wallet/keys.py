"""Signing keys: each issuer's Ed25519 keys, the platform's status-list key, and the P-256
holder keys that credentials name in ``cnf``. Private keys are stored encrypted with the Vault,
bound to their kid (or holder index)."""
from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from jwcrypto.jwk import JWK
from sqlalchemy import select, update

from core import clock
from core.extensions import db
from core.ids import new_handle
from core.models import insert_for
from wallet.models import HolderKey, IssuerKey
from wallet.sdjwt import b64url

EDDSA = "EdDSA"
ES256 = "ES256"


def _vault():
    return current_app.extensions["vault"]


# Issuer and platform keys --------------------------------------------------------------


def create_key(issuer_id: str | None) -> IssuerKey:
    """A new Ed25519 key for the issuer (``None``: the platform), flushed."""
    private = Ed25519PrivateKey.generate()
    kid = new_handle(12)
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    key = IssuerKey(kid=kid, issuer_id=issuer_id,
                    private_key_enc=_vault().encrypt(raw, f"issuer-key:{kid}".encode()),
                    public_key=private.public_key().public_bytes(serialization.Encoding.Raw,
                                                                 serialization.PublicFormat.Raw),
                    created_at=clock.now())
    db.session.add(key)
    db.session.flush()
    return key


def rotate_key(issuer_id: str | None) -> IssuerKey:
    """Retire the current keys and create the next; retired keys stay published."""
    db.session.execute(update(IssuerKey)
                       .where(_owner(issuer_id), IssuerKey.retired_at.is_(None))
                       .values(retired_at=clock.now()))
    return create_key(issuer_id)


def _owner(issuer_id: str | None):
    return IssuerKey.issuer_id.is_(None) if issuer_id is None else IssuerKey.issuer_id == issuer_id


def signing_key(issuer_id: str | None) -> IssuerKey | None:
    """The key that signs now: the newest one not retired."""
    return db.session.scalars(
        select(IssuerKey).where(_owner(issuer_id), IssuerKey.retired_at.is_(None))
        .order_by(IssuerKey.created_at.desc()).limit(1)).first()


def keys_of(issuer_id: str | None) -> list[IssuerKey]:
    """Every key of the issuer, current and retired, newest first."""
    return list(db.session.scalars(
        select(IssuerKey).where(_owner(issuer_id)).order_by(IssuerKey.created_at.desc())))


def platform_signing_key() -> IssuerKey:
    """The platform's status-list key, created with the first status list."""
    return signing_key(None) or create_key(None)


def private_jwk(key: IssuerKey) -> JWK:
    raw = _vault().decrypt(key.private_key_enc, f"issuer-key:{key.kid}".encode())
    return JWK.from_pyca(Ed25519PrivateKey.from_private_bytes(raw))


def public_jwk(key: IssuerKey) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(key.public_key), "kid": key.kid,
            "alg": EDDSA, "use": "sig"}


def jwks(keys: list[IssuerKey]) -> dict:
    return {"keys": [public_jwk(key) for key in keys]}


# Holder keys ---------------------------------------------------------------------------


def _holder_context(holder_index: str) -> bytes:
    return f"holder-key:{holder_index}".encode()


def holder_public_jwk(holder_index: str) -> dict:
    """The holder's public key as a JWK, creating the key pair on first use (flushed)."""
    key = db.session.get(HolderKey, holder_index)
    if key is not None:
        return key.public_jwk
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = JWK.from_pyca(private.public_key()).export_public(as_dict=True)
    added = db.session.execute(insert_for(HolderKey).values(
        holder_index=holder_index, public_jwk=public, created_at=clock.now(),
        private_key_enc=_vault().encrypt(der, _holder_context(holder_index)))
        .on_conflict_do_nothing().returning(HolderKey.holder_index)).first()
    if added is None:
        # Issued to the same new holder at the same moment: use the key that won.
        return db.session.get(HolderKey, holder_index, populate_existing=True).public_jwk
    return public


def holder_private_jwk(holder_index: str) -> JWK:
    key = db.session.get(HolderKey, holder_index)
    der = _vault().decrypt(key.private_key_enc, _holder_context(holder_index))
    return JWK.from_pyca(serialization.load_der_private_key(der, password=None))
