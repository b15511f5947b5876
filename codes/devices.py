"""Devices for offline codes: a phone that holds a TOTP seed shows a valid code with no network.

The offline code text is::

    OCD1:<device_id>:<otp>

``device_id`` is the id that ``POST /api/v1/me/devices`` returned (URL-safe base64 characters)
and ``otp`` the device's 8-digit TOTP (RFC 6238: HMAC-SHA1 over the base32 ``secret``, time step
``period`` seconds, which is ``DEVICE_CODE_PERIOD_SECONDS``) for the current time. For example
``OCD1:pV3k9xq2TzK8bN1mR4sW0a:40221843``. The phone renders it as a QR code like any other.

The server accepts the step before and after the current one (clock drift of a phone that has
been offline), and each step of a device once: accepting a code moves the device's
``last_step`` forward with a conditional UPDATE, so of two workers that see the same code at
once exactly one wins, and an older step of the same device is refused too. A removed device's
codes stop working at once.

The same secret proves the phone in a face sign-in: ``check_device_proof`` takes the
base64url (no padding) HMAC-SHA256 of the sign-in's challenge, keyed with the base32-decoded
secret. The challenge is single use, so a proof is too, and it is never shown on a screen.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

import pyotp
from flask import current_app
from sqlalchemy import func, select, update

from codes.errors import CodeAlreadyUsed, CodeInvalid, CodeMalformed, TooManyDevices
from codes.models import Device
from core import clock
from core.crypto import vault
from core.errors import NotFound
from core.extensions import db
from core.ids import OPAQUE_ID, new_id
from core.store import redis_client

PREFIX = "OCD1:"
DIGITS = 8
MAX_DEVICES = 10  # active devices a person may hold at once
_CODE = re.compile(rf"OCD1:({OPAQUE_ID.pattern}):([0-9]{{8}})", re.ASCII)



def _context(device_id: str) -> bytes:
    return f"device-secret:{device_id}".encode()


def register_device(person_id: str) -> tuple[Device, str]:
    """Register a device for offline codes; returns it with its secret (base32), shown once.

    Raises ``TooManyDevices`` when the person already holds ``MAX_DEVICES``.
    """
    active = db.session.scalar(select(func.count()).select_from(Device).where(
        Device.person_id == person_id, Device.removed_at.is_(None)))
    if active >= MAX_DEVICES:
        raise TooManyDevices()
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    device_id = new_id()
    device = Device(id=device_id, person_id=person_id,
                    secret_enc=vault().encrypt(secret.encode(), _context(device_id)),
                    period=current_app.config["DEVICE_CODE_PERIOD_SECONDS"], last_step=0,
                    created_at=clock.now())
    db.session.add(device)
    db.session.flush()
    return device, secret


def remove_device(person_id: str, device_id: str) -> None:
    """Remove one of the person's devices: its codes stop working.

    Raises ``NotFound`` for an unknown device, another person's, or one already removed.
    """
    # Ids are URL-safe base64; anything else (a NUL, say, which PostgreSQL refuses) is unknown.
    valid = OPAQUE_ID.fullmatch(device_id) is not None
    device = db.session.get(Device, device_id) if valid else None
    if device is None or device.person_id != person_id or device.removed_at is not None:
        raise NotFound("No such device.")
    device.removed_at = clock.now()
    db.session.flush()


def check_device_proof(person_id: str, device_id: str | None, proof: str | None,
                       challenge: str) -> bool:
    """Whether ``proof`` is base64url (without padding) of HMAC-SHA256 over the UTF-8
    ``challenge``, keyed with the base32-decoded secret of a device that ``person_id``
    registered and has not removed. Compared in constant time; never raises for bad input.
    """
    if not device_id or not proof or OPAQUE_ID.fullmatch(device_id) is None:
        return False
    device = db.session.get(Device, device_id)
    if device is None or device.person_id != person_id or device.removed_at is not None:
        return False
    secret = vault().decrypt(device.secret_enc, _context(device.id)).decode()
    try:
        key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    except (binascii.Error, ValueError):
        return False
    message = challenge.encode("utf-8", "surrogatepass")
    expected = base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest())
    return hmac.compare_digest(expected.rstrip(b"="), proof.encode("utf-8", "surrogatepass"))


def is_device_code(text: str) -> bool:
    return text.startswith(PREFIX)


@dataclass(frozen=True)
class AcceptedStep:
    device_id: str
    person_id: str
    step: int
    period: int


def check_device_code(text: str) -> AcceptedStep:
    """The device and TOTP step an offline code proves, not yet spent.

    Raises ``CodeMalformed`` when the text is not of the ``OCD1:`` shape, ``CodeInvalid`` for
    an unknown or removed device or a one-time password outside the ±1 step window.
    """
    match = _CODE.fullmatch(text)
    if match is None:
        raise CodeMalformed("Not an offline code.")
    device_id, otp = match.groups()
    device = db.session.get(Device, device_id)
    if device is None or device.removed_at is not None:
        raise CodeInvalid()
    secret = vault().decrypt(device.secret_enc, _context(device.id)).decode()
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=device.period)
    current = int(clock.timestamp()) // device.period
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), otp):
            return AcceptedStep(device.id, device.person_id, step, device.period)
    raise CodeInvalid()


def spend_device_step(accepted: AcceptedStep) -> None:
    """Mark the step used. Raises ``CodeAlreadyUsed`` when it (or a later one) already was.

    The UPDATE's condition is checked by the database under the row lock, so it holds across
    workers: a second transaction waits for the first and then matches no row. A Redis
    ``SET NX`` on the step goes first, so a crowd presenting one code is turned away without
    queueing on that row lock (or, on SQLite, failing to upgrade a stale read to a write).
    """
    # A step is acceptable until the end of the next one; keep the mark a little longer.
    ttl = 3 * accepted.period
    if not redis_client().set(f"devstep:{{{accepted.device_id}}}:{accepted.step}", 1, nx=True, ex=ttl):
        raise CodeAlreadyUsed()
    result = db.session.execute(
        update(Device)
        .where(Device.id == accepted.device_id, Device.last_step < accepted.step,
               Device.removed_at.is_(None))
        .values(last_step=accepted.step)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise CodeAlreadyUsed()
