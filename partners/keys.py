"""The RSA keys that sign ID tokens (RS256), their rotation, and the JWKS at /oauth/jwks.

The newest key not retired signs. ``rotate_id_token_key`` makes a new one and retires the
others, which stay in the JWKS for ``OIDC_RETIRED_KEY_SECONDS`` so that ID tokens they signed
still verify. The first key is made on first use. Private keys are stored encrypted with the
Vault. Each worker keeps the current key, decrypted, for at most ``CACHE_SECONDS`` (as the
code-signing keys do), so signing an ID token costs no query; a rotation therefore reaches
every worker within that second, and the JWKS (read from the database each time) already
lists the new key before any worker signs with it.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from joserfc.jwk import RSAKey
from sqlalchemy import or_, select

from core import clock
from core.extensions import db
from core.ids import new_handle
from core.models import add_with_random_key
from partners.models import IdTokenKey

ALG = "RS256"
CACHE_SECONDS = 1.0
_lock = threading.Lock()
# (loaded at, by time.monotonic(); kid; private key), or None.
_current: tuple[float, str, RSAKey] | None = None


def _context(kid: str) -> bytes:
    return f"oidc-signing-key:{kid}".encode()


def create_id_token_key() -> IdTokenKey:
    """A new RSA-2048 signing key, added and flushed."""
    def build() -> IdTokenKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = new_handle(12)
        pem = private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        public = RSAKey.import_key(private.public_key()).as_dict(private=False)
        public.update({"kid": kid, "alg": ALG, "use": "sig"})
        return IdTokenKey(kid=kid, alg=ALG,
                          private_key_enc=current_app.extensions["vault"].encrypt(pem, _context(kid)),
                          public_jwk=json.dumps(public), created_at=clock.now())

    return add_with_random_key(build)


def rotate_id_token_key() -> IdTokenKey:
    """Make a new signing key and retire the current ones (they stay published)."""
    now = clock.now()
    current = db.session.scalars(select(IdTokenKey).where(IdTokenKey.retired_at.is_(None))).all()
    key = create_id_token_key()
    for old in current:
        old.retired_at = now
    db.session.flush()
    forget_cached_key()
    return key


def signing_key() -> tuple[str, RSAKey]:
    """The kid and private key that sign ID tokens now (made on first use)."""
    global _current
    snapshot = _current
    if snapshot is not None and time.monotonic() - snapshot[0] < CACHE_SECONDS:
        return snapshot[1], snapshot[2]
    row = db.session.execute(
        select(IdTokenKey.kid, IdTokenKey.private_key_enc).where(IdTokenKey.retired_at.is_(None))
        .order_by(IdTokenKey.created_at.desc()).limit(1)).first()
    made_now = row is None
    if made_now:
        key = create_id_token_key()
        row = (key.kid, key.private_key_enc)
    kid, blob = row
    if snapshot is not None and snapshot[1] == kid:
        private = snapshot[2]
    else:
        pem = current_app.extensions["vault"].decrypt(blob, _context(kid))
        private = RSAKey.import_key(pem, {"kid": kid, "alg": ALG, "use": "sig"})
    if not made_now:  # a key not yet committed is not worth remembering
        with _lock:
            _current = (time.monotonic(), kid, private)
    return kid, private


def forget_cached_key() -> None:
    """Drop this worker's copy of the current key (after a rotation, or in tests)."""
    global _current
    with _lock:
        _current = None


def jwks() -> dict:
    """The published public keys: the current ones and those retired recently."""
    cutoff = clock.now() - timedelta(seconds=current_app.config["OIDC_RETIRED_KEY_SECONDS"])
    rows = db.session.scalars(
        select(IdTokenKey.public_jwk)
        .where(or_(IdTokenKey.retired_at.is_(None), IdTokenKey.retired_at >= cutoff))
        .order_by(IdTokenKey.created_at.desc())).all()
    if not rows:
        rows = [create_id_token_key().public_jwk]
    return {"keys": [json.loads(r) for r in rows]}
