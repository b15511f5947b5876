"""HTTP surface of face verification: enrolment, face sign-in and the counter check (刷脸办).

Images come as multipart uploads (at most ``MAX_CONTENT_LENGTH``, 10 MB: larger is a 413
``payload-too-large``), are read into memory, analysed and dropped.
"""
from flask import g, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from core.auth import BEARER, RESIDENT, SERVICE_POINT, require
from core.errors import NotFound
from core import signals
from core.schemas import Rfc3339, Text
from identity import face, reauthentication, service
from identity.schemas import TokenPairSchema

face_blp = Blueprint("face", __name__, url_prefix="/api/v1",
                     description="Face verification: enrolment, face sign-in, counter checks")

_IMAGE_PROBLEMS = ("`bad-image` (not a JPEG or PNG that decodes, or over the size limits), "
                   "`no-face` or `several-faces`")
_DEVICE_ID = "a device registered to the account with `POST /me/devices` (not removed)"
_DEVICE_PROOF = ("base64url without padding of HMAC-SHA256 over the UTF-8 `challenge`, keyed "
                 "with the base32-decoded `secret` of that device; good for this challenge "
                 "only, never shown on a screen")
_PASSWORD = ("my password again: an access token alone does not enrol a face. A wrong one "
             "counts against the password sign-in's lockout")
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait (at least 1)",
                                "schema": {"type": "integer", "minimum": 1}}}
_BUSY = {"description": "`service-unavailable`: every face worker is busy; retry after "
                        "Retry-After seconds",
         "headers": {"Retry-After": {"description": "Seconds to wait",
                                     "schema": {"type": "integer", "minimum": 1}}}}


class ImageSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    image = Upload(required=True, metadata={"description": "a JPEG or PNG photo, one face"})


class EnrolFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    consent = Text(metadata={"description": "`true`: I consent to my face being used to "
                                            "verify me (biometric data needs its own consent)"})
    # Not required when parsed: without it the answer is 401 reauthentication-required.
    password = Text(validate=validate.Length(max=4096), load_only=True,
                    metadata={"description": _PASSWORD})


class FaceLoginFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    username = Text(required=True, validate=validate.Length(min=1, max=64),
                    metadata={"description": "ID number or phone number"})
    challenge = Text(required=True, validate=validate.Length(min=1, max=128),
                     metadata={"description": "from /auth/face/challenge"})
    # Not required when parsed: without them the answer is 401 device-required, which counts
    # as a failed attempt, rather than a validation error that would not.
    device_id = Text(validate=validate.Length(max=64), metadata={"description": _DEVICE_ID})
    device_proof = Text(validate=validate.Length(max=128),
                        metadata={"description": _DEVICE_PROOF})


class EnrolUploadSchema(EnrolFormSchema, ImageSchema):
    """What PUT /me/face takes, as one multipart body (for the API document)."""

    password = Text(required=True, load_only=True, metadata={"description": _PASSWORD})


class FaceLoginUploadSchema(FaceLoginFormSchema, ImageSchema):
    """What POST /auth/face/login takes, as one multipart body (for the API document)."""

    device_id = Text(required=True, metadata={"description": _DEVICE_ID})
    device_proof = Text(required=True, metadata={"description": _DEVICE_PROOF})


def _multipart(schema) -> dict:
    # The form fields and the file are parsed separately; the document shows them as the one
    # multipart body they arrive in.
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}


class ChallengeRequestSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=64),
                    metadata={"description": "ID number or phone number"})


class ChallengeSchema(Schema):
    challenge = fields.String(required=True, metadata={"description": "good for one attempt"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class FaceStatusSchema(Schema):
    enrolled = fields.Boolean(required=True)
    portrait_matched = fields.Boolean(required=True, metadata={
        "description": "the face matched the portrait of my resident ID"})
    consented_at = Rfc3339(allow_none=True)


class FaceCheckSchema(Schema):
    match = fields.Boolean(required=True)


def _image_bytes(files: dict) -> bytes:
    # Within MAX_CONTENT_LENGTH already: werkzeug refuses a larger body before this runs.
    return files["image"].read()


def _current_person():
    return service.signed_in_person(g.principal_id)


@face_blp.put("/me/face")
@face_blp.arguments(EnrolFormSchema, location="form")
@face_blp.arguments(ImageSchema, location="files")
@face_blp.response(204)
@face_blp.alt_response(401, description="`reauthentication-required`: no `password`, or a wrong "
                                   "one (counted as a failed sign-in); nothing changes. Or "
                                   "the bearer token is missing or invalid")
@face_blp.alt_response(422, description="`consent-required`, `face-mismatch` (the resident ID's "
                                   "portrait is someone else), " + _IMAGE_PROBLEMS)
@face_blp.alt_response(429, description="`too-many-attempts`: the account's password sign-in is "
                                   "locked for this address; nothing was checked",
                       headers=_RETRY_AFTER)
@face_blp.alt_response(413, description="`payload-too-large`: over 10 MB")
@face_blp.alt_response(503, **_BUSY)
@face_blp.doc(security=BEARER, **_multipart(EnrolUploadSchema))
@require(RESIDENT)
def enrol(form, files):
    """Enrol (or replace) my face, confirmed with my password

    A stolen access token must not enrol the thief's face, so the password comes first. Only a
    128-number template of the face is kept, encrypted; the photo is not stored. When my
    resident ID carries a portrait, the face must match it, and the match raises my assurance
    level to 3.
    """
    person = _current_person()
    reauthentication.confirm_password(person, form.get("password"), request.remote_addr)
    consent = (form.get("consent") or "").strip().lower() == "true"
    face.enrol_face(person, _image_bytes(files) if consent else b"", consent)


@face_blp.get("/me/face")
@face_blp.response(200, FaceStatusSchema)
@face_blp.doc(security=BEARER)
@require(RESIDENT)
def face_status():
    """Whether I have enrolled a face, and whether it matched my resident ID's portrait"""
    return face.enrolled_face(g.principal_id)


@face_blp.delete("/me/face")
@face_blp.response(204)
@face_blp.doc(security=BEARER)
@require(RESIDENT)
def remove():
    """Withdraw my biometric consent: the enrolled face is deleted (level 3 falls back to 2)"""
    face.remove_face(_current_person())


@face_blp.post("/auth/face/challenge")
@face_blp.arguments(ChallengeRequestSchema)
@face_blp.response(200, ChallengeSchema)
@face_blp.alt_response(429, description="`too-many-attempts`: this address asked for too many "
                                   "challenges this minute",
                       headers=_RETRY_AFTER)
def challenge(data):
    """A single-use challenge for a face sign-in (the same answer for any username)"""
    return face.issue_challenge(data["username"], request.remote_addr)


@face_blp.post("/auth/face/login")
@face_blp.arguments(FaceLoginFormSchema, location="form")
@face_blp.arguments(ImageSchema, location="files")
@face_blp.response(200, TokenPairSchema)
@face_blp.alt_response(401, description="`invalid-challenge` (unknown, expired, used or another "
                                   "username's), `device-required` (no valid `device_proof` "
                                   "from a device of the account: a photo alone never signs "
                                   "in; counted as a failure) or `face-mismatch`")
@face_blp.alt_response(422, description=_IMAGE_PROBLEMS)
@face_blp.alt_response(429, description="`too-many-attempts`: after 5 failures in a row, each "
                                   "further one locks twice as long; nothing was checked",
                       headers=_RETRY_AFTER)
@face_blp.alt_response(503, **_BUSY)
@face_blp.doc(**_multipart(FaceLoginUploadSchema))
def face_login(form, files):
    """Sign in with a face, a fresh challenge and the phone's proof

    The face is one factor, the registered device the other: `device_proof` is the HMAC of
    the challenge under the device's secret, checked before the face. The tokens' `acr`
    ranks a face like a password alone (`amr` is `["face"]`).
    """
    def device_proved(person_id: str) -> bool:
        return signals.device_proof(person_id, form.get("device_id"), form.get("device_proof"),
                                    form["challenge"])

    tokens = face.sign_in_with_face(form["username"], form["challenge"], _image_bytes(files),
                                    request.remote_addr, device_proved)
    return tokens


@face_blp.post("/scans/<scan_id>/face")
@face_blp.arguments(ImageSchema, location="files")
@face_blp.response(200, FaceCheckSchema)
@face_blp.alt_response(404, description="not a live scan of this service point")
@face_blp.alt_response(409, description="`no-face-enrolled`: the holder has no enrolled face")
@face_blp.alt_response(422, description=_IMAGE_PROBLEMS)
@face_blp.alt_response(429, description="`too-many-attempts`: this scan had all its face checks")
@face_blp.alt_response(503, **_BUSY)
@face_blp.doc(security=BEARER)
@require(SERVICE_POINT)
def counter_check(files, scan_id):
    """Check the face at the counter (刷脸办) against the scanned holder's enrolled face

    Only by the service point that made the scan, while the scan lives. The check is recorded
    on the holder's scan (`GET /me/scans` shows it under `shared`).
    """
    scan = signals.live_scan(scan_id, g.principal_id)
    if scan is None:
        raise NotFound()
    match = face.check_face_at_counter(scan, _image_bytes(files))
    return {"match": match}
