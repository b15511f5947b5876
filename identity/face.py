"""Face verification: enrolment with its own consent, face sign-in, and the counter check.

Only the 128-d encoding of an enrolled face is kept, AES-GCM encrypted with the person's id as
context; uploaded images live in memory for the length of the request and are never stored or
logged. Two encodings are of the same person when their Euclidean distance is below
``FACE_MATCH_THRESHOLD``. Services flush and never commit; the request commits.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Callable

import numpy as np
from flask import current_app

from core import audit, clock, metrics
from core.crypto import vault
from core.errors import Problem, ServiceUnavailable
from core.extensions import db
from core.ratelimit import address_digest, per_address
from core.store import redis_client
from core.tokens import start_session
from identity import assurance, face_images, service
from identity.errors import SubjectSuspended, TooManyAttempts
from identity.face_models import FaceTemplate
from identity.models import ACTIVE, Person
from identity.throttle import LoginThrottle, Lockout

FACE_AMR = ("face",)
_TEMPLATE_BYTES = 128 * 8


# Problems ------------------------------------------------------------------------------


class ConsentRequired(Problem):
    type = "consent-required"
    status = 422
    title = "Biometric data needs its own consent: send consent=true"


class BadImage(Problem):
    type = "bad-image"
    status = 422
    title = "The image is not a JPEG or PNG that can be read"


class NoFace(Problem):
    type = "no-face"
    status = 422
    title = "No face was found in the image"


class SeveralFaces(Problem):
    type = "several-faces"
    status = 422
    title = "More than one face is in the image"


class FaceMismatch(Problem):
    type = "face-mismatch"
    status = 422
    title = "The face does not match"


class FaceLoginMismatch(FaceMismatch):
    # The same answer for a wrong face, an unknown user and a user with no enrolled face.
    status = 401


class InvalidChallenge(Problem):
    type = "invalid-challenge"
    status = 401
    title = "The challenge is unknown, expired or already used"


class DeviceRequired(Problem):
    # A photo of a person is easy to find: the phone they registered is the second factor.
    type = "device-required"
    status = 401
    title = "A face sign-in needs a proof from a device registered to the account"


class NoFaceEnrolled(Problem):
    type = "no-face-enrolled"
    status = 409
    title = "The holder has not enrolled a face"


class TooManyFaceChecks(Problem):
    type = "too-many-attempts"
    status = 429
    title = "This scan has had all the face checks it may have"


_OUTCOMES = {face_images.BAD_IMAGE: BadImage, face_images.NO_FACE: NoFace,
             face_images.SEVERAL_FACES: SeveralFaces}


# Encodings -----------------------------------------------------------------------------


def face_pool() -> face_images.FacePool:
    """This process's pool for face work (made on first use, sized by the settings)."""
    extensions = current_app.extensions
    pool = extensions.get("face_pool")
    if pool is None:
        cfg = current_app.config
        pool = extensions.setdefault("face_pool", face_images.FacePool(
            cfg["FACE_MAX_CONCURRENT"], cfg["FACE_QUEUE_WAIT_SECONDS"],
            cfg["FACE_TIMEOUT_SECONDS"], cfg["FACE_NICE"]))
    return pool


def analysis_limits() -> dict:
    cfg = current_app.config
    return {"max_side": cfg["FACE_MAX_SIDE"], "max_pixels": cfg["FACE_MAX_PIXELS"],
            "upsample": cfg["FACE_DETECT_UPSAMPLE"]}


def encode_face(data: bytes) -> np.ndarray:
    """The one face's 128-d encoding in an uploaded image.

    Raises ``BadImage``, ``NoFace``, ``SeveralFaces``, or ``ServiceUnavailable`` (with
    Retry-After) when every face worker of this process is busy.
    """
    try:
        result = face_pool().analyse(data, **analysis_limits())
    except face_images.Busy:
        raise ServiceUnavailable("Face checks are busy; try again shortly.",
                                 headers={"Retry-After": 1}) from None
    if result.outcome != face_images.OK:
        raise _OUTCOMES[result.outcome]()
    return result.encoding


def matches(a: np.ndarray, b: np.ndarray) -> bool:
    return face_images.distance(a, b) < current_app.config["FACE_MATCH_THRESHOLD"]


def _context(person_id: str) -> bytes:
    return f"person.face:{person_id}".encode()


def _seal(person_id: str, encoding: np.ndarray) -> bytes:
    raw = np.asarray(encoding, dtype="<f8").tobytes()
    assert len(raw) == _TEMPLATE_BYTES
    return vault().encrypt(raw, _context(person_id))


def _open(template: FaceTemplate) -> np.ndarray:
    raw = vault().decrypt(template.template_enc, _context(template.person_id))
    return np.frombuffer(raw, dtype="<f8")


def get_template(person_id: str) -> FaceTemplate | None:
    return db.session.get(FaceTemplate, person_id)


# Enrolment -----------------------------------------------------------------------------


def resident_id_portrait(person: Person) -> bytes | None:
    """The portrait (JPEG bytes) of the person's newest valid ``resident-id``, if it has one."""
    import base64
    import binascii

    portrait = (assurance.resident_id_claims(person) or {}).get("portrait")
    if not isinstance(portrait, str) or not portrait:
        return None
    try:
        return base64.b64decode(portrait, validate=False)
    except (binascii.Error, ValueError):
        return None


def enrol_face(person: Person, image: bytes, consent: bool) -> FaceTemplate:
    """Enrol (or replace) the person's face; returns the template (flushed).

    Where the holder's valid ``resident-id`` carries a portrait, the face must match it, and
    the match raises the assurance level to 3 when the credential matches the registration.
    A face that was matched before may be replaced only by one that matches again (the
    portrait, or the matched face when no portrait is at hand). Raises ``ConsentRequired``,
    ``BadImage``, ``NoFace``, ``SeveralFaces``, ``FaceMismatch`` (nothing changes) or
    ``ServiceUnavailable``.
    """
    if not consent:
        raise ConsentRequired()
    encoding = encode_face(image)
    portrait = resident_id_portrait(person)
    matched = False
    if portrait is not None:
        try:
            reference = encode_face(portrait)
        except (BadImage, NoFace, SeveralFaces):
            reference = None  # an unusable portrait cannot vouch for anyone
        if reference is None or not matches(encoding, reference):
            raise FaceMismatch("The face does not match the portrait of your resident ID.")
        matched = True
    # Two enrolments of one person at once: the second waits here for the first's commit
    # (the image work above runs unlocked).
    db.session.refresh(person, with_for_update=True)
    current = db.session.get(FaceTemplate, person.id, populate_existing=True)
    if not matched and current is not None and current.portrait_matched:
        if not matches(encoding, _open(current)):
            raise FaceMismatch("The enrolled face was matched to your resident ID; "
                               "a new one must be the same person.")
        matched = True

    now = clock.now()
    if current is None:
        current = FaceTemplate(person_id=person.id, created_at=now)
        db.session.add(current)
    else:
        current.updated_at = now
    current.template_enc = _seal(person.id, encoding)
    current.portrait_matched = matched
    current.consented_at = now
    db.session.flush()
    assurance.refresh_assurance(person)
    audit.record("face-enrol", person=person.id, portrait_matched=matched)
    return current


def remove_face(person: Person) -> bool:
    """Delete the enrolled face (consent withdrawn); level 3 falls back to 2. True if one was."""
    template = get_template(person.id)
    if template is None:
        return False
    db.session.delete(template)
    db.session.flush()
    assurance.refresh_assurance(person)
    audit.record("face-remove", person=person.id)
    return True


# Face sign-in --------------------------------------------------------------------------


def _challenge_key(challenge: str) -> str:
    digest = hashlib.sha256(challenge.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"face:challenge:{{{digest}}}"


def issue_challenge(username: str, client_address: str | None = None) -> dict:
    """A single-use challenge bound to the account that ``username`` names.

    Returns ``{challenge, expires_in}``, the same for an unknown username, so that accounts
    cannot be found out this way. Raises ``TooManyAttempts`` when the address asked for more
    than ``FACE_CHALLENGES_PER_MINUTE`` in this minute (each one is a key in Redis).
    """
    _count_challenge(client_address)
    _person, account = service._find_login(username)
    ttl = current_app.config["FACE_CHALLENGE_SECONDS"]
    challenge = secrets.token_urlsafe(32)
    expires = clock.timestamp() + ttl
    # The expiry decides (by the clock); Redis's own expiry only collects the garbage.
    redis_client().set(_challenge_key(challenge), f"{account}|{expires!r}", ex=ttl + 60)
    return {"challenge": challenge, "expires_in": ttl}


def _count_challenge(client_address: str | None) -> None:
    per_address("face:challenges", client_address,
                current_app.config["FACE_CHALLENGES_PER_MINUTE"], 60)


def _spend_challenge(challenge: str, account: str) -> None:
    stored = redis_client().getdel(_challenge_key(challenge)) if challenge else None
    if stored is None:
        raise InvalidChallenge()
    bound, _, expires = stored.decode().partition("|")
    if not secrets.compare_digest(bound, account) or clock.timestamp() >= float(expires):
        raise InvalidChallenge()


def face_throttle() -> LoginThrottle:
    cfg = current_app.config
    lockout = Lockout(cfg["FACE_LOGIN_MAX_FAILURES"] - 1, cfg["LOGIN_MAX_LOCK_SECONDS"],
                      cfg["LOGIN_FAILURE_MEMORY_SECONDS"])
    return LoginThrottle(redis_client(), pair=lockout, account=lockout,
                         address_failures=cfg["LOGIN_IP_FREE_FAILURES"],
                         address_window=cfg["LOGIN_IP_WINDOW_SECONDS"])


@metrics.counted(metrics.SIGN_INS, method="face")
def sign_in_with_face(username: str, challenge: str, image: bytes,
                      client_address: str | None,
                      device_proved: Callable[[str], bool]) -> dict:
    """Check the challenge, the device and the face, and open a session whose ``amr`` is
    ``["face"]`` (its ``acr`` ranks like a password alone).

    ``device_proved(person_id)`` says whether the request proved a device of that person
    for this challenge; it is asked after the challenge is spent and before the image is
    analysed, so a photo without the phone costs no face work. Returns the token pair of
    ``app.tokens.start_session``. Raises ``TooManyAttempts`` while the account is locked
    (nothing checked), ``InvalidChallenge``, ``DeviceRequired`` (also for an unknown user;
    counted as a failure), ``BadImage``, ``NoFace``, ``SeveralFaces``, ``FaceLoginMismatch``
    (also for a user with no enrolled face), ``SubjectSuspended`` or ``ServiceUnavailable``.
    """
    person, account_key = service._find_login(username)
    # Face failures have their own counts: a stranger's photo does not lock the password out.
    account = "face:" + account_key[:32]
    address = address_digest(client_address)
    throttle = face_throttle()
    wait = throttle.retry_after(account, address)
    if wait:
        raise TooManyAttempts(wait)
    _spend_challenge(challenge, account_key)
    if person is None or not device_proved(person.id):
        throttle.record_failure(account, address)
        raise DeviceRequired()
    encoding = encode_face(image)
    template = get_template(person.id)
    if template is None or not matches(encoding, _open(template)):
        throttle.record_failure(account, address)
        raise FaceLoginMismatch()
    throttle.record_success(account, address)
    # "In a row": a success clears the account's face count as well, from any address.
    throttle.redis.delete(LoginThrottle._account_key(account))
    if person.status != ACTIVE:
        raise SubjectSuspended()
    return start_session(person.id, service.resident_claims(person, amr=FACE_AMR))


# The counter check ---------------------------------------------------------------------


def check_face_at_counter(scan, image: bytes) -> bool:
    """Compare a face photographed at the counter with the scanned holder's enrolled face;
    record the check on the scan (flushed). Returns whether it matches.

    Raises ``NoFaceEnrolled``, ``TooManyFaceChecks``, ``BadImage``, ``NoFace``,
    ``SeveralFaces`` or ``ServiceUnavailable``.
    """
    template = get_template(scan.person_id) if scan.person_id else None
    if template is None:
        raise NoFaceEnrolled()
    limit = current_app.config["FACE_CHECKS_PER_SCAN"]
    if sum(1 for entry in scan.shared or [] if entry.get("kind") == "face-check") >= limit:
        raise TooManyFaceChecks()
    encoding = encode_face(image)
    match = matches(encoding, _open(template))
    db.session.refresh(scan, with_for_update=True)  # other follow-ups of the scan append too
    scan.shared = [*(scan.shared or []), {"kind": "face-check", "match": match,
                                          "at": clock.rfc3339(clock.now())}]
    db.session.flush()
    audit.record("face-check", scan=scan.id, service_point=scan.service_point_id,
                 person=scan.person_id, match=match)
    return match


def enrolled_face(person_id: str) -> dict:
    """``{enrolled, portrait_matched, consented_at}`` for the holder's own view."""
    template = get_template(person_id)
    if template is None:
        return {"enrolled": False, "portrait_matched": False, "consented_at": None}
    return {"enrolled": True, "portrait_matched": template.portrait_matched,
            "consented_at": template.consented_at}

