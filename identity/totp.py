"""Time-based one-time passwords (RFC 6238, 30-second steps, 6 digits) for two-step sign-in.

A password is accepted in the step before, at, or after the current one, and only once: the
person's last accepted step moves forward with a conditional UPDATE, so that two requests
racing with the same password cannot both win, on any number of workers.
"""
from __future__ import annotations

import hmac

import pyotp
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from core import clock
from core.extensions import db
from identity.models import Person

PERIOD = 30
DIGITS = 6
ISSUER = "OneCode"


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, label: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans; ``label`` names the account."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=label, issuer_name=ISSUER)


def matching_step(secret: str, otp: str, at: float | None = None) -> int | None:
    """The time step (within ±1 of ``at``) whose password is ``otp``, or None."""
    if not (isinstance(otp, str) and len(otp) == DIGITS and otp.isascii() and otp.isdigit()):
        return None
    at = clock.timestamp() if at is None else at
    generator = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int(at // PERIOD)
    found = None
    # Compare all three in constant time each, rather than stopping at the first match.
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(generator.generate_otp(step), otp):
            found = step
    return found


def spend_step(person: Person, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already.

    Call it before anything else writes in the transaction (see the SQLite note below).
    """
    person_id = person.id
    try:
        advanced = _advance(person_id, step)
    except OperationalError:
        if db.session.get_bind().dialect.name != "sqlite":
            raise
        # SQLite (the embedded demo) refuses to write from a read snapshot that another
        # writer has overtaken, such as a racing sign-in spending this very step. Nothing is
        # written before this point, so start afresh: the UPDATE then waits for the lock and
        # sees the latest row.
        db.session.rollback()
        advanced = _advance(person_id, step)
    if advanced:
        db.session.expire(person, ["totp_last_step"])
    return advanced


def _advance(person_id: str, step: int) -> bool:
    result = db.session.execute(
        update(Person)
        .where(Person.id == person_id, Person.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
