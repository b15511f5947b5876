"""Opaque identifiers: random, URL-safe, never derived from personal data."""
import re
import secrets

OPAQUE_ID = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)
"""The shape of an id as it arrives (``fullmatch``): ours from ``new_id``, or one a client or
device chose; URL-safe base64 letters, 1 to 32. Checked before anything reaches SQL or Redis."""

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: safe to read aloud


def new_id() -> str:
    """A 22-character random id for rows that appear in URLs (128 bits, URL-safe base64).

    Never one that starts with ``-``: operators pass ids to commands, where that reads as an
    option.
    """
    while True:
        value = secrets.token_urlsafe(16)
        if value[0] != "-":
            return value


def new_handle(length: int = 10) -> str:
    """A short random handle (5 bits a character), e.g. a code's ``sub``."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
