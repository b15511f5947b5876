"""Residents: registration, sign-in, two-step sign-in and lookups for the other packages.

Services flush and never commit; the request (or CLI command, or job) that calls them commits.
"""
from __future__ import annotations

import unicodedata

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from core import clock, metrics, signals
from core.crypto import vault
from core.errors import ValidationProblem
from core.extensions import db
from core.ids import new_handle, new_id
from core.ratelimit import address_digest, fixed_window
from core.store import redis_client
from core.tokens import start_session
from identity import passwords, totp
from identity.errors import (
    AlreadyRegistered,
    InvalidCredentials,
    InvalidOtp,
    OtpRequired,
    SubjectSuspended,
    TooManyAttempts,
    TotpAlreadyEnabled,
    TotpNotStarted,
)
from identity.id_numbers import (
    ID_NUMBER_SHAPE,
    birthdate_of,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
)
from identity.models import ACTIVE, Person
from identity.throttle import LoginThrottle, Lockout

NAME_MAX = 64
# Sent with the new person, inside the registration's unit of work (the catalogue tells them
# of policies found for them before they registered).
person_registered = signals.person_registered
# Names are letters (any script) with their marks, spaces, and the separators that names
# carry: the middle dot of transcribed minority and foreign names (阿依古丽·买买提), hyphens,
# apostrophes and full stops. No digits, symbols, control or invisible characters.
_NAME_PUNCTUATION = frozenset("·・‧•.-'’")
_HANDLE_ATTEMPTS = 5



def _id_context(person_id: str) -> str:
    return f"person.id_number:{person_id}"


def _phone_context(person_id: str) -> str:
    return f"person.phone:{person_id}"


def _totp_context(person_id: str) -> str:
    return f"person.totp:{person_id}"


# Registration --------------------------------------------------------------------------


def normalise_text(value, max_length: int) -> str:
    """A name-like text in NFC without surrounding space; ``ValueError`` when it is not a
    string, is empty, or is longer than ``max_length``."""
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("Must not be empty.")
    if len(value) > max_length:
        raise ValueError(f"Must be at most {max_length} characters.")
    return value


def normalise_name(name: str) -> str:
    """The name in NFC without surrounding space; ``ValueError`` when it cannot be a name."""
    name = normalise_text(name, NAME_MAX)
    if not all(_name_character(ch) for ch in name):
        raise ValueError("Must contain only letters, spaces and the dots or hyphens of names.")
    return name


def _name_character(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Zs" or ch in _NAME_PUNCTUATION


def register_resident(name: str, id_number: str, phone: str, password: str) -> Person:
    """Create a person at assurance level 1 (self-asserted) and flush it.

    Raises ``ValidationProblem`` (errors by field) for a bad name, ID number (GB 11643 checksum,
    region, birth date), phone or password, and ``AlreadyRegistered`` when the ID number or the
    phone number belongs to someone already.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for field, check, value in (("name", normalise_name, name),
                                ("id_number", validate_id_number, id_number),
                                ("phone", normalise_phone, phone)):
        try:
            clean[field] = check(value)
        except ValueError as exc:
            errors[field] = [str(exc)]
    weak = passwords.password_problems(
        password, max_length=current_app.config["PASSWORD_MAX_LENGTH"],
        id_number=clean.get("id_number") or _loose_id_number(id_number),
        phone=clean.get("phone"), name=clean.get("name"))
    if weak:
        errors["password"] = weak
    if errors:
        raise ValidationProblem(errors)

    v = vault()
    id_index = v.index("id", clean["id_number"])
    phone_index = v.index("phone", clean["phone"])
    if _taken(id_index, phone_index):
        raise AlreadyRegistered()
    password_hash = passwords.hash_password(password)
    for _ in range(_HANDLE_ATTEMPTS):
        person_id = new_id()
        person = Person(
            id=person_id,
            handle=new_handle(10),
            name=clean["name"],
            id_number_index=id_index,
            id_number_enc=v.encrypt_text(clean["id_number"], _id_context(person_id)),
            id_number_masked=mask_id_number(clean["id_number"]),
            phone_index=phone_index,
            phone_enc=v.encrypt_text(clean["phone"], _phone_context(person_id)),
            phone_masked=mask_phone(clean["phone"]),
            birthdate=birthdate_of(clean["id_number"]),
            password_hash=password_hash,
            totp_enabled=False,
            totp_last_step=0,
            status=ACTIVE,
            assurance_level=1,
            created_at=clock.now(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(person)
                db.session.flush()
        except IntegrityError:
            # Someone registered the same number at the same moment, or the handle collided.
            if _taken(id_index, phone_index):
                raise AlreadyRegistered() from None
            continue
        person_registered.send(person)
        return person
    raise RuntimeError("could not allocate a unique handle")


def _loose_id_number(value) -> str | None:
    # An invalid ID number still must not end up inside the password.
    if isinstance(value, str):
        normalised = normalise_id_number(value)
        return normalised if len(normalised) >= 6 else None
    return None


def _taken(id_index: str, phone_index: str) -> bool:
    found = db.session.execute(
        select(Person.id).where(or_(Person.id_number_index == id_index,
                                    Person.phone_index == phone_index)).limit(1)
    ).first()
    return found is not None


# Lookups for the other packages --------------------------------------------------------


def get_person(person_id: str) -> Person | None:
    """The person with this id, or None."""
    return db.session.get(Person, person_id)


def signed_in_person(person_id: str) -> Person:
    """The person a valid resident token names; ``InvalidToken`` when they are gone (a token
    outlives nothing it names)."""
    person = get_person(person_id)
    if person is None:
        from identity.errors import InvalidToken

        raise InvalidToken()
    return person


def get_person_by_handle(handle: str) -> Person | None:
    """The person whose code handle (a code's ``sub``) this is, or None."""
    return db.session.execute(select(Person).where(Person.handle == handle)).scalar_one_or_none()


def id_number_index(id_number: str) -> str:
    """The keyed lookup digest of an ID number (normalised first), as stored on persons.

    Raises ``ValueError`` when it is not a valid ID number.
    """
    return vault().index("id", validate_id_number(id_number))


def get_person_by_id_number(id_number: str) -> Person | None:
    """The person registered with this ID number, or None (also for an invalid number)."""
    try:
        index = id_number_index(id_number)
    except ValueError:
        return None
    return db.session.execute(
        select(Person).where(Person.id_number_index == index)).scalar_one_or_none()


# How the routes that look a resident up by ID number document their 429.
LOOKUPS_REFUSED = ("`too-many-attempts`: this account looked up `ID_NUMBER_LOOKUPS_PER_ACCOUNT` "
                   "ID numbers in the window already")


def find_resident_for(caller_id: str, id_number: str) -> Person | None:
    """The person registered with this (valid) ID number, or None, for a signed-in resident
    who names someone (a proxy invitation, an enterprise delegation).

    Every such lookup counts against the caller, found or not, since either answer tells
    whether the number is registered: past ``ID_NUMBER_LOOKUPS_PER_ACCOUNT`` in the window it
    raises ``TooManyAttempts`` before looking."""
    cfg = current_app.config
    fixed_window("id-number-lookups", f"person:{caller_id}", cfg["ID_NUMBER_LOOKUPS_PER_ACCOUNT"],
                 cfg["ID_NUMBER_LOOKUP_WINDOW_SECONDS"])
    return get_person_by_id_number(id_number)


def id_number_of(person: Person) -> str:
    """The person's full ID number, decrypted: for matching credentials, never for display."""
    return vault().decrypt_text(person.id_number_enc, _id_context(person.id))


def phone_of(person: Person) -> str:
    """The person's full phone number, decrypted."""
    return vault().decrypt_text(person.phone_enc, _phone_context(person.id))


def display_name(person: Person) -> str:
    """The name masked after its first character (张三丰 → 张**), as a scanner sees it."""
    return person.name[:1] + "*" * (len(person.name) - 1)


def resident_claims(person: Person, amr: tuple[str, ...] = ("pwd",)) -> dict:
    """The claims of a resident's tokens: kind, the code handle ``h``, the holder index
    ``hx`` (the keyed digest their credentials are filed under; the home screen reads its
    change stamp with the sign-in check), ``acr`` and ``amr``."""
    return {
        "kind": "resident",
        "h": person.handle,
        "hx": person.id_number_index,
        "acr": "2" if "otp" in amr else "1",
        "amr": list(amr),
    }


# Sign-in -------------------------------------------------------------------------------


def login_throttle() -> LoginThrottle:
    cfg = current_app.config
    memory = cfg["LOGIN_FAILURE_MEMORY_SECONDS"]
    return LoginThrottle(
        redis_client(),
        pair=Lockout(cfg["LOGIN_FREE_FAILURES"], cfg["LOGIN_MAX_LOCK_SECONDS"], memory),
        account=Lockout(cfg["LOGIN_ACCOUNT_FREE_FAILURES"],
                        cfg["LOGIN_ACCOUNT_MAX_LOCK_SECONDS"], memory),
        address_failures=cfg["LOGIN_IP_FREE_FAILURES"],
        address_window=cfg["LOGIN_IP_WINDOW_SECONDS"],
    )


def _find_login(username: str) -> tuple[Person | None, str]:
    """The person a username names (ID number or phone) and the digest to throttle it by."""
    v = vault()
    normalised = normalise_id_number(username)
    if ID_NUMBER_SHAPE.fullmatch(normalised):
        index = v.index("id", normalised)
        column = Person.id_number_index
    else:
        try:
            index = v.index("phone", normalise_phone(username))
            column = Person.phone_index
        except ValueError:
            return None, v.index("login", normalised)
    person = db.session.execute(select(Person).where(column == index)).scalar_one_or_none()
    # One counter per person, whichever of their numbers is typed.
    return person, (person.id_number_index if person else index)


def sign_in(username: str, password: str, otp: str | None, client_address: str | None) -> dict:
    """Check a password (and a one-time password when TOTP is on) and open a session.

    Returns the token pair of ``app.tokens.start_session``; raises as ``authenticate``.
    """
    person, amr = authenticate(username, password, otp, client_address)
    return start_session(person.id, resident_claims(person, amr))


@metrics.counted(metrics.SIGN_INS, method="password")
def authenticate(username: str, password: str, otp: str | None,
                 client_address: str | None) -> tuple[Person, tuple[str, ...]]:
    """Check a password (and a one-time password when TOTP is on), throttled.

    Returns the person and the methods used (``amr``: ``("pwd",)`` or ``("pwd", "otp")``).
    Raises ``TooManyAttempts`` (without checking anything) while the account or address is
    locked, ``InvalidCredentials`` for an unknown user, a wrong password or a wrong or spent
    one-time password, ``OtpRequired`` when TOTP is on and no ``otp`` came (after a correct
    password), and ``SubjectSuspended`` for a suspended person.
    """
    person, account_key = _find_login(username)
    account = account_key[:32]
    address = address_digest(client_address)
    throttle = login_throttle()
    wait = throttle.retry_after(account, address)
    if wait:
        raise TooManyAttempts(wait)

    if person is None:
        passwords.burn_verification(password)
        throttle.record_failure(account, address)
        raise InvalidCredentials()
    if not passwords.verify_password(person.password_hash, password):
        throttle.record_failure(account, address)
        raise InvalidCredentials()

    amr: tuple[str, ...] = ("pwd",)
    if person.totp_enabled:
        if otp is None or otp == "":
            raise OtpRequired()
        if not _accept_otp(person, otp):
            throttle.record_failure(account, address)
            raise InvalidCredentials()
        amr = ("pwd", "otp")
    throttle.record_success(account, address)
    if person.status != ACTIVE:
        raise SubjectSuspended()
    if passwords.needs_rehash(person.password_hash):
        person.password_hash = passwords.hash_password(password)
        person.updated_at = clock.now()
        db.session.flush()
    return person, amr


def _accept_otp(person: Person, otp: str) -> bool:
    if not person.totp_secret_enc:
        return False
    secret = vault().decrypt_text(person.totp_secret_enc, _totp_context(person.id))
    step = totp.matching_step(secret, otp)
    return step is not None and totp.spend_step(person, step)


def accept_otp(person: Person, otp: str) -> bool:
    """Whether ``otp`` is the person's current one-time password, spending it (each works
    once). False without a TOTP secret."""
    return _accept_otp(person, otp)


# Two-step sign-in set-up ---------------------------------------------------------------


def start_totp_setup(person: Person) -> dict:
    """A new pending TOTP secret for the person, replacing any pending one.

    Returns ``{secret, otpauth_uri}`` (the URI's label is the masked phone number). Raises
    ``TotpAlreadyEnabled`` when TOTP is on already.
    """
    if person.totp_enabled:
        raise TotpAlreadyEnabled()
    secret = totp.new_secret()
    person.totp_secret_enc = vault().encrypt_text(secret, _totp_context(person.id))
    person.updated_at = clock.now()
    db.session.flush()
    return {"secret": secret,
            "otpauth_uri": totp.provisioning_uri(secret, person.phone_masked)}


def confirm_totp(person: Person, otp: str) -> None:
    """Turn TOTP on once the person proves their app has the pending secret.

    Raises ``TotpAlreadyEnabled``, ``TotpNotStarted`` (no pending secret) or ``InvalidOtp``
    (wrong, or already used).
    """
    if person.totp_enabled:
        raise TotpAlreadyEnabled()
    if not person.totp_secret_enc:
        raise TotpNotStarted()
    if not _accept_otp(person, otp):
        raise InvalidOtp()
    person.totp_enabled = True
    person.updated_at = clock.now()
    db.session.flush()
