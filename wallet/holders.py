"""Who a credential is for: the keyed index of a holder's ID number or USCC.

Persons carry ``id_number_index`` (identity computes it); a credential stores the same digest,
so it belongs to its holder whether or not they have registered yet.
"""
from __future__ import annotations

from core.crypto import vault
from identity import service as identity
from identity import uscc as gb32100


def uscc_index(uscc: str) -> str:
    """The keyed lookup digest of a USCC (validated first; ``ValueError``)."""
    return vault().index("uscc", gb32100.validate(uscc))


def holder_index(holder: dict) -> tuple[str, str, str]:
    """``(index, kind, normalised value)`` for ``{id_number}`` or ``{uscc}``; ``ValueError``."""
    if set(holder) == {"id_number"}:
        from identity.id_numbers import validate_id_number

        number = validate_id_number(holder["id_number"])
        return identity.id_number_index(number), "id_number", number
    if set(holder) == {"uscc"}:
        uscc = gb32100.validate(holder["uscc"])
        return uscc_index(uscc), "uscc", uscc
    raise ValueError("Give exactly one of id_number or uscc.")
