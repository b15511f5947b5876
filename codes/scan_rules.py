"""What a scan's two paths share (``codes.scans`` answers a scan in its request,
``codes.scan_writer`` in a batch): who the subject is as a scanner sees them; and the Redis
key that spends a signed code on the request path."""
from __future__ import annotations

from flask import current_app

from core import clock
from codes.errors import CodeInvalid, SubjectSuspended
from identity import service as identity


def person_subject(person) -> dict:
    """The subject of a person's scan (a ``Person`` or a row with its ``name``, ``status``
    and ``assurance_level``; None when there is none). Raises ``CodeInvalid`` (no such
    person, or not active) or ``SubjectSuspended``."""
    if person is None:
        raise CodeInvalid()
    if person.status == "suspended":
        raise SubjectSuspended()
    if person.status != "active":
        raise CodeInvalid()
    return {"kind": "person", "display_name": identity.display_name(person),
            "assurance_level": person.assurance_level}


def nonce_key(nonce: str) -> str:
    """The Redis key that marks a signed code (its ``cti``, hex) used."""
    return f"nonce:{{{nonce}}}"


def nonce_seconds(exp: int) -> int:
    """How long a code's mark must live: until it could no longer verify."""
    leeway = current_app.config["CODE_LEEWAY_SECONDS"]
    return max(1, int(exp + leeway - clock.timestamp()) + 1)
