"""The unified social credit code (统一社会信用代码, GB 32100-2015) of a legal person.

Eighteen characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):

    1      registration authority (e.g. 9 market regulation, 1 organisation, 5 civil affairs)
    2      organisation type within that authority
    3-8    administrative region (GB/T 2260)
    9-17   organisation code (GB 11714): eight characters and its own check character
    18     the GB 32100 check character over the first seventeen

Both check characters are verified. The GB 11714 check is mod 11 with weights 3 7 9 10 5 8 4 2
(10 written X, 11 written 0); the GB 32100 check is mod 31 with weights 3^i mod 31.
"""
from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18


class InvalidUscc(ValueError):
    """The text is not a USCC; the message says why, for a validation error."""


def _org_value(ch: str) -> int:
    # GB 11714 values letters A=10 ... Z=35 (its own, wider alphabet).
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def organisation_check(first8: str) -> str:
    """The GB 11714 check character of an organisation code's first eight characters."""
    remainder = 11 - sum(_org_value(ch) * w for ch, w in zip(first8, _ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of a USCC's first seventeen characters."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(value) -> str:
    """NFKC (full-width characters become ASCII), surrounding space dropped, upper case."""
    if not isinstance(value, str):
        raise InvalidUscc("Must be a string.")
    return unicodedata.normalize("NFKC", value).strip().upper()


def validate(value) -> str:
    """The USCC normalised, when it is one; else ``InvalidUscc`` saying what is wrong."""
    uscc = normalise(value)
    if len(uscc) != LENGTH:
        raise InvalidUscc(f"Must be {LENGTH} characters.")
    if any(ch not in _VALUE for ch in uscc):
        raise InvalidUscc("Must use digits and capital letters other than I, O, S, V and Z.")
    if not uscc[2:8].isdigit():
        raise InvalidUscc("Characters 3 to 8 must be the six digits of a region code.")
    if organisation_check(uscc[8:16]) != uscc[16]:
        raise InvalidUscc("The organisation code's check character (the 17th) does not match.")
    if uscc_check(uscc[:17]) != uscc[17]:
        raise InvalidUscc("The check character (the 18th) does not match.")
    return uscc


def complete(first16: str) -> str:
    """A valid USCC from its first sixteen characters (both checks computed): for tests and
    demo data."""
    first17 = first16 + organisation_check(first16[8:16])
    return first17 + uscc_check(first17)
