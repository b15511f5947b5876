"""Machine clients (service points, issuers) sign in with a client id and secret.

A secret is 32 random bytes (URL-safe base64), shown once and stored as its SHA-256: with that
much entropy a slow hash adds nothing, and the check stays cheap.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from app.errors import Problem


class InvalidClient(Problem):
    type = "invalid-client"
    status = 401
    title = "The client credentials are not valid"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Compared against when the client id is unknown, so both failures take the same time.
_NO_SECRET = hash_secret("no such client")


def check_secret(client, secret: str):
    """``client`` (a row with ``secret_hash`` and ``active``, or None) if ``secret`` is its
    secret and it is active; else ``InvalidClient``, in the same time either way."""
    expected = client.secret_hash if client is not None else _NO_SECRET
    matches = hmac.compare_digest(hash_secret(secret), expected)
    if client is None or not matches or not client.active:
        raise InvalidClient()
    return client
