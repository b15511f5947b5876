"""Who a credential is for: the keyed index of a holder's ID number or USCC.

Persons carry ``id_number_index`` (identity computes it); a credential stores the same digest,
so it belongs to its holder whether or not they have registered yet.
"""
from __future__ import annotations

import unicodedata

from flask import current_app

from identity import service as identity

# GB 32100: the unified social credit code's 31 characters (no I, O, S, V, Z).
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714: the organisation code inside it (characters 9-17) has a check character too.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def validate_uscc(value: str) -> str:
    """The USCC normalised (NFKC, upper case), if both its check characters hold; else
    ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    uscc = unicodedata.normalize("NFKC", value).strip().upper()
    if len(uscc) != 18 or any(ch not in _USCC_CHARS for ch in uscc):
        raise ValueError("Must be 18 characters of GB 32100.")
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(uscc, _USCC_WEIGHTS))
    if _USCC_CHARS[(31 - total % 31) % 31] != uscc[17]:
        raise ValueError("The check character does not match.")
    org = uscc[8:17]
    check = 11 - sum(_org_value(ch) * w for ch, w in zip(org[:8], _ORG_WEIGHTS)) % 11
    if {10: "X", 11: "0"}.get(check, str(check)) != org[8]:
        raise ValueError("The organisation code's check character does not match.")
    return uscc


def make_uscc(body16: str) -> str:
    """A valid USCC from its first 16 characters (the organisation check is computed): for
    tests and demo data."""
    org = body16[8:16]
    check = 11 - sum(_org_value(ch) * w for ch, w in zip(org, _ORG_WEIGHTS)) % 11
    first17 = body16 + {10: "X", 11: "0"}.get(check, str(check))
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def uscc_index(uscc: str) -> str:
    """The keyed lookup digest of a USCC (validated first; ``ValueError``)."""
    return current_app.extensions["vault"].index("uscc", validate_uscc(uscc))


def holder_index(holder: dict) -> tuple[str, str, str]:
    """``(index, kind, normalised value)`` for ``{id_number}`` or ``{uscc}``; ``ValueError``."""
    if set(holder) == {"id_number"}:
        from identity.id_numbers import validate_id_number

        number = validate_id_number(holder["id_number"])
        return identity.id_number_index(number), "id_number", number
    if set(holder) == {"uscc"}:
        uscc = validate_uscc(holder["uscc"])
        return uscc_index(uscc), "uscc", uscc
    raise ValueError("Give exactly one of id_number or uscc.")
