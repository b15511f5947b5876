"""The RSA keys that sign ID tokens (RS256), their rotation, and the JWKS at /oauth/jwks.

The newest key not retired signs. ``rotate_id_token_key`` makes a new one and retires the
others, which stay in the JWKS for ``OIDC_RETIRED_KEY_SECONDS`` so that ID tokens they signed
still verify. The first key is made on first use. Private keys are stored encrypted with the
Vault. The keys live in a ``core.keystore.KeyStore``, whose per-worker snapshot (at most
``CACHE_SECONDS`` old, as for the code-signing keys) holds the current key, decrypted, so
signing an ID token costs no query; a rotation therefore reaches every worker within that
second, and the JWKS (read from the database each time) already lists the new key before any
worker signs with it.
"""
from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from joserfc.jwk import RSAKey

from core.keystore import CACHE_SECONDS, RS256, KeySpec, KeyStore  # noqa: F401
from partners.models import IdTokenKey

ALG = RS256.name


def _public_columns(kid: str, private) -> dict:
    public = RSAKey.import_key(private.public_key()).as_dict(private=False)
    public.update({"kid": kid, "alg": ALG, "use": "sig"})
    return {"alg": ALG, "public_jwk": json.dumps(public)}


def _signer(kid: str, private) -> RSAKey:
    return RSAKey.import_key(private, {"kid": kid, "alg": ALG, "use": "sig"})


def _retired_published() -> timedelta:
    return timedelta(seconds=current_app.config["OIDC_RETIRED_KEY_SECONDS"])


_store = KeyStore(KeySpec(
    model=IdTokenKey,
    algorithm=RS256,
    context="oidc-signing-key",
    public_columns=_public_columns,
    public=lambda row: row.public_jwk,
    published_after_retirement=_retired_published,
    signer=_signer,
))


def create_id_token_key() -> IdTokenKey:
    """A new RSA-2048 signing key, added and flushed."""
    return _store.create()


def rotate_id_token_key() -> IdTokenKey:
    """Make a new signing key and retire the current ones (they stay published)."""
    return _store.rotate()


def signing_key() -> tuple[str, RSAKey]:
    """The kid and private key that sign ID tokens now (made on first use)."""
    found = _store.signing()
    if found is not None:
        entry, private = found
        return entry.kid, private
    # A key not yet committed is not worth remembering: the next call reloads and finds it.
    key = create_id_token_key()
    return key.kid, _signer(key.kid, _store.private_key(key))


def forget_cached_key() -> None:
    """Drop this worker's copy of the current key (after a rotation, or in tests)."""
    _store.forget()


def jwks() -> dict:
    """The published public keys: the current ones and those retired recently."""
    rows = [key.public_jwk for key in _store.published_rows()]
    if not rows:
        rows = [create_id_token_key().public_jwk]
    return {"keys": [json.loads(r) for r in rows]}
