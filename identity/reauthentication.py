"""Re-authentication: what could keep an account for a thief asks for the password again.

An access token lives 15 minutes and may be stolen; enrolling a face with it would let the thief
sign in with their own face for good. Such a route checks the holder's password first. A wrong
one counts against the same throttle as the password sign-in (the same account and address
counts), so a stolen token is no way to try passwords either.
"""
from __future__ import annotations

from core.ratelimit import address_digest
from identity import passwords, service
from identity.errors import ReauthenticationRequired, TooManyAttempts
from identity.models import Person


def confirm_step_up(person: Person, password: str | None, otp: str | None,
                    client_address: str | None) -> None:
    """A step-up before a weighty act (signing a document): the password again, or a fresh
    one-time password when two-step sign-in is on. Raises as ``confirm_password``; a wrong
    or reused one-time password counts as a failed sign-in too."""
    if not otp:
        confirm_password(person, password, client_address)
        return
    account, address = person.id_number_index[:32], address_digest(client_address)
    throttle = service.login_throttle()
    wait = throttle.retry_after(account, address)
    if wait:
        raise TooManyAttempts(wait)
    if not (person.totp_enabled and service.accept_otp(person, otp)):
        throttle.record_failure(account, address)
        raise ReauthenticationRequired()
    throttle.record_success(account, address)


def confirm_password(person: Person, password: str | None, client_address: str | None) -> None:
    """Check the signed-in person's password again; returns nothing when it is right.

    Raises ``TooManyAttempts`` (nothing checked) while the account is locked for this address,
    and ``ReauthenticationRequired`` when no password came or it is wrong; a wrong one counts
    as a failed sign-in.
    """
    # The sign-in throttle's name for the account, as ``service.authenticate`` derives it.
    account = person.id_number_index[:32]
    address = address_digest(client_address)
    throttle = service.login_throttle()
    wait = throttle.retry_after(account, address)
    if wait:
        raise TooManyAttempts(wait)
    if not password:
        raise ReauthenticationRequired()
    if not passwords.verify_password(person.password_hash, password):
        throttle.record_failure(account, address)
        raise ReauthenticationRequired()
    throttle.record_success(account, address)
