"""How partner apps authenticate at the token, revocation, introspection and device
authorization endpoints: ``client_secret_basic`` and ``client_secret_post`` (RFC 6749
§2.3.1), registered with Authlib in place of its own two methods.

They differ from Authlib's in two ways:

- An unknown client id and a wrong secret fail alike: the same ``invalid_client`` answer,
  after the same work (the secret's digest is compared with a dummy digest when no client
  has the id), so the endpoints do not tell which client ids exist.
- An ``Authorization: Basic`` header that is not base64, whose credentials are not UTF-8, or
  that has no colon is a 401 ``invalid_client`` (with ``WWW-Authenticate: Basic``), never an
  error inside the library.
"""
from __future__ import annotations

import base64
import hmac
from urllib.parse import unquote

from authlib.oauth2.rfc6749.errors import InvalidClientError

from partners.models import digest

BASIC = "client_secret_basic"
POST = "client_secret_post"

# Compared against when no client has the id, so that both failures take the same time.
_NO_CLIENT = digest("no such client")


class BrokenBasicCredentials(InvalidClientError):
    """RFC 6749 §5.2: the client tried HTTP Basic, so 401 with ``WWW-Authenticate: Basic``."""

    status_code = 401
    description = "The Authorization header does not hold Basic credentials (RFC 7617)."


def _basic_credentials(request) -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header; None without one.
    Raises ``BrokenBasicCredentials`` for a Basic header that cannot be read."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # validate: characters outside the alphabet are an error, not skipped.
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
        raise BrokenBasicCredentials() from None
    client_id, colon, secret = text.partition(":")
    if not colon:
        raise BrokenBasicCredentials()
    # RFC 6749 §2.3.1: both are form-urlencoded before they are joined.
    return unquote(client_id), unquote(secret)


def _client_with_secret(query_client, client_id: str, secret: str):
    """The active client with this id if ``secret`` is its secret, else None, after the same
    digest comparison either way."""
    client = query_client(client_id) if client_id else None
    expected = client.secret_hash if client is not None else _NO_CLIENT
    matches = hmac.compare_digest(expected, digest(secret))
    return client if client is not None and matches and secret else None


def authenticate_basic(query_client, request):
    """Authlib's ``client_secret_basic`` method, as this module's docstring says."""
    credentials = _basic_credentials(request)
    if credentials is None:
        return None
    return _client_with_secret(query_client, *credentials)


def authenticate_post(query_client, request):
    """Authlib's ``client_secret_post`` method, as this module's docstring says."""
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if not client_id or secret is None:
        return None
    return _client_with_secret(query_client, client_id, secret)


def register(server) -> None:
    """Put both methods in place of Authlib's on ``server``."""
    server.register_client_auth_method(BASIC, authenticate_basic)
    server.register_client_auth_method(POST, authenticate_post)
