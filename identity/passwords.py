"""Passwords: argon2id hashes, and the few rules a new password must meet.

The rules follow NIST SP 800-63B: at least 8 characters, long ones allowed and never
truncated, no composition rules, and no password that is common or made of the holder's
own data. Passwords are NFKC-normalised before anything else, so the same password typed on
two keyboards (full-width or not) is the same password.
"""
from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8
# zxcvbn's shipped list of the 30,000 most common passwords, lower-cased.
COMMON_PASSWORDS = frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def password_problems(password: str, *, max_length: int, id_number: str | None = None,
                      phone: str | None = None, name: str | None = None) -> list[str]:
    """Why ``password`` may not be used, as messages for the person; empty when it may.

    ``id_number``, ``phone`` and ``name`` are the holder's own, already normalised.
    """
    password = normalise_password(password)
    if len(password) < MIN_LENGTH:
        return [f"Must be at least {MIN_LENGTH} characters."]
    if len(password) > max_length:
        return [f"Must be at most {max_length} characters."]
    if password.lower() in COMMON_PASSWORDS:
        return ["Too common: choose a password that others do not use."]
    own = [("your ID number", id_number), ("your phone number", phone)]
    if name and len(name) >= 2:
        own.append(("your name", name))
    folded = password.casefold()
    for what, value in own:
        if value and value.casefold() in folded:
            return [f"Must not contain {what}."]
    return []


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost,
                          parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    """The argon2id hasher with this application's cost settings."""
    cfg = current_app.config
    return _hasher(cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_TIME_COST"], cfg["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of the normalised password."""
    return hasher().hash(normalise_password(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; never raises for a wrong password."""
    try:
        return hasher().verify(stored_hash, normalise_password(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other cost settings than the current ones."""
    try:
        return hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=8)
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    return _hasher(memory_kib, time_cost, parallelism).hash(secrets.token_urlsafe(24))


def burn_verification(password: str) -> None:
    """Spend the time of one verification, for a user who does not exist.

    So that an unknown username and a wrong password take about as long to refuse.
    """
    cfg = current_app.config
    dummy = _dummy_hash(cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_TIME_COST"],
                        cfg["ARGON2_PARALLELISM"])
    verify_password(dummy, password)
