"""What a scan's two paths share (``codes.scans`` answers a scan in its request,
``codes.scan_writer`` in a batch): who the subject is as a scanner sees them."""
from __future__ import annotations

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
