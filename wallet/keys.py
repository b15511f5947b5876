"""Signing keys: each issuer's Ed25519 keys, the platform's status-list key, and the P-256
holder keys that credentials name in ``cnf``. Private keys are stored encrypted with the Vault,
bound to their kid (or holder index).

The issuer keys live in a ``core.keystore.KeyStore`` owned by ``issuer_id`` (None: the
platform); a retired key stays published for ever. They are read in the caller's transaction,
not from a worker's snapshot: an issuer and its first key are made in one transaction, and a
snapshot shared by the worker's threads must not hold a key that may yet be rolled back.
"""
from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK

from core import clock
from core.extensions import db
from core.keystore import ED25519, KeySpec, KeyStore, ed25519_public_bytes, seal, unseal
from core.models import insert_for
from wallet.models import HolderKey, IssuerKey
from wallet.sdjwt import b64url

EDDSA = ED25519.name
ES256 = "ES256"

_store = KeyStore(KeySpec(
    model=IssuerKey,
    algorithm=ED25519,
    context="issuer-key",
    public_columns=lambda kid, private: {"public_key": ed25519_public_bytes(private)},
    owner="issuer_id",
))


# Issuer and platform keys --------------------------------------------------------------


def create_key(issuer_id: str | None) -> IssuerKey:
    """A new Ed25519 key for the issuer (``None``: the platform), flushed."""
    return _store.create(owner=issuer_id)


def rotate_key(issuer_id: str | None) -> IssuerKey:
    """Retire the current keys and create the next; retired keys stay published."""
    return _store.rotate(owner=issuer_id)


def signing_key(issuer_id: str | None) -> IssuerKey | None:
    """The key that signs now: the newest one not retired."""
    return _store.signing_row(owner=issuer_id)


def keys_of(issuer_id: str | None) -> list[IssuerKey]:
    """Every key of the issuer, current and retired, newest first."""
    return _store.rows(owner=issuer_id)


def platform_signing_key() -> IssuerKey:
    """The platform's status-list key, created with the first status list."""
    return signing_key(None) or create_key(None)


def private_jwk(key: IssuerKey) -> JWK:
    return JWK.from_pyca(_store.private_key(key))


def public_jwk(key: IssuerKey) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(key.public_key), "kid": key.kid,
            "alg": EDDSA, "use": "sig"}


def jwks(keys: list[IssuerKey]) -> dict:
    return {"keys": [public_jwk(key) for key in keys]}


# Holder keys ---------------------------------------------------------------------------

_HOLDER_CONTEXT = "holder-key"  # bound to the holder index


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
        private_key_enc=seal(_HOLDER_CONTEXT, holder_index, der))
        .on_conflict_do_nothing().returning(HolderKey.holder_index)).first()
    if added is None:
        # Issued to the same new holder at the same moment: use the key that won.
        return db.session.get(HolderKey, holder_index, populate_existing=True).public_jwk
    return public


def holder_private_jwk(holder_index: str) -> JWK:
    key = db.session.get(HolderKey, holder_index)
    der = unseal(_HOLDER_CONTEXT, holder_index, key.private_key_enc)
    return JWK.from_pyca(serialization.load_der_private_key(der, password=None))
