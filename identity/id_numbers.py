"""Resident ID numbers (GB 11643-1999) and mainland mobile phone numbers.

An ID number is 17 digits (6 region, 8 birth date YYYYMMDD, 3 sequence) and a check character
from an ISO 7064 MOD 11-2 checksum. Input is normalised before it is checked, so that what a
phone keyboard produces (full-width digits, a lower-case ``x``, spaces) is accepted, while the
stored and compared form is always the canonical ASCII one.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from core import clock

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# re.ASCII: \d would otherwise match other scripts' digits, which NFKC does not always map.
ID_NUMBER_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
# Province-level codes: the first two digits of every region code.
_PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91]
)
_EARLIEST_BIRTH = date(1900, 1, 1)

_PHONE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def check_character(first17: str) -> str:
    """The GB 11643 check character for 17 ASCII digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    """NFKC (full-width digits become ASCII), no whitespace, an upper-case ``X``.

    Says nothing about validity; ``validate_id_number`` does.
    """
    return "".join(_nfkc(value).split()).upper()


def validate_id_number(value: str) -> str:
    """The canonical form of a valid ID number.

    Raises ``ValueError`` with a reason fit to show the person who typed it.
    """
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    number = normalise_id_number(value)
    if not ID_NUMBER_SHAPE.fullmatch(number):
        raise ValueError("Must be 17 digits followed by a digit or X.")
    if int(number[:2]) not in _PROVINCES:
        raise ValueError("Unknown region.")
    try:
        born = birthdate_of(number)
    except ValueError:
        raise ValueError("Not a valid birth date.") from None
    if born < _EARLIEST_BIRTH or born > clock.now().date():
        raise ValueError("Not a valid birth date.")
    if check_character(number[:17]) != number[17]:
        raise ValueError("Wrong check character.")
    return number


def birthdate_of(number: str) -> date:
    """The birth date encoded in a (normalised) ID number; ``ValueError`` if it is not a date."""
    digits = number[6:14]
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("not a date")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def mask_id_number(number: str) -> str:
    """``110************011``: the region's first three and the last three characters."""
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


def make_id_number(region: str, birthdate: str | date, seq: int) -> str:
    """A valid ID number for a 6-digit region, a birth date and a sequence 0-999.

    For the demo seed and tests; people's real numbers come from the people.
    """
    if isinstance(birthdate, date):
        birthdate = birthdate.strftime("%Y%m%d")
    first17 = f"{region}{birthdate}{seq % 1000:03d}"
    if not (len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValueError("region must be 6 digits and birthdate YYYYMMDD")
    return first17 + check_character(first17)


def normalise_phone(value: str) -> str:
    """An 11-digit mainland mobile number from what a person typed.

    Accepts full-width digits, spaces and dashes, and a ``+86`` or ``86`` prefix.
    Raises ``ValueError`` when it is not a mainland mobile number.
    """
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    compact = _PHONE_SEPARATORS.sub("", _nfkc(value))
    match = _PHONE.fullmatch(compact)
    if not match:
        raise ValueError("Must be a mainland mobile number, 11 digits starting with 1.")
    return match.group(1)


def mask_phone(phone: str) -> str:
    """``138****5678``."""
    return phone[:3] + "****" + phone[-4:]


def looks_like_phone(value: str) -> bool:
    try:
        normalise_phone(value)
    except ValueError:
        return False
    return True
