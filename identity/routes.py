"""HTTP surface of identity: registration, sign-in, TOTP, the profile."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, require
from core.ratelimit import per_address
from identity import assurance, service, sessions
from identity.errors import InvalidToken
from identity.schemas import (
    LoginSchema,
    OtpSchema,
    ProfileSchema,
    RefreshSchema,
    RegistrationSchema,
    TokenPairSchema,
    TotpSetupSchema,
)

blp = Blueprint("identity", __name__, url_prefix="/api/v1", description="Residents and sign-in")


def _current_person():
    return service.signed_in_person(g.principal_id)


@blp.post("/residents")
@blp.arguments(RegistrationSchema)
@blp.response(201, ProfileSchema)
@blp.alt_response(409, description="`already-registered`: the ID number or phone is taken")
@blp.alt_response(429,
                  description="`too-many-attempts`: this address tried `REGISTRATIONS_PER_ADDRESS` "
                              "registrations in the window already")
def register(data):
    """Register a resident

    The profile comes back with the ID number and phone masked. 422 `validation-error` (by
    field) for a bad checksum, phone, name or a weak password.
    """
    cfg = current_app.config
    per_address("registrations", request.remote_addr, cfg["REGISTRATIONS_PER_ADDRESS"],
                cfg["REGISTRATION_WINDOW_SECONDS"])
    person = service.register_resident(**data)
    assurance.refresh_assurance(person)  # a resident-id issued before registering counts at once
    return person


@blp.post("/auth/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, description="`invalid-credentials` or `otp-required`")
@blp.alt_response(403, description="`subject-suspended`")
@blp.alt_response(429, description="`too-many-attempts`: the password was not even checked")
def login(data):
    """Sign in with an ID number or phone number, a password and, when on, a one-time password"""
    tokens = service.sign_in(data["username"], data["password"], data["otp"],
                             request.remote_addr)
    return tokens


@blp.post("/auth/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, description="`token-reused` (the sign-in is revoked), `token-revoked`, "
                              "`token-expired` or `invalid-token`")
@blp.doc(security=BEARER)
def refresh(data):
    """Spend a refresh token for a new pair

    Send the refresh token as the bearer token (or as `refresh_token` in the body).
    """
    token = _bearer_token() or data.get("refresh_token")
    if not token:
        raise InvalidToken("Send the refresh token.")
    return sessions.refresh_session(token)


@blp.post("/auth/logout")
@blp.response(204)
@blp.doc(security=BEARER)
@require(RESIDENT)
def logout():
    """Sign out: this sign-in's access and refresh tokens stop working at once"""
    sessions.end_sign_in(g.claims)


@blp.post("/auth/totp")
@blp.response(200, TotpSetupSchema)
@blp.alt_response(409, description="`totp-already-enabled`")
@blp.doc(security=BEARER)
@require(RESIDENT)
def start_totp():
    """Start two-step sign-in set-up: a new secret for an authenticator app"""
    setup = service.start_totp_setup(_current_person())
    return setup


@blp.post("/auth/totp/confirm")
@blp.arguments(OtpSchema)
@blp.response(204)
@blp.alt_response(409, description="`totp-already-enabled` or `totp-not-started`")
@blp.doc(security=BEARER)
@require(RESIDENT)
def confirm_totp(data):
    """Turn two-step sign-in on with a one-time password from the new secret

    422 `invalid-otp` for a wrong or already used one-time password.
    """
    service.confirm_totp(_current_person(), data["otp"])


@blp.get("/me")
@blp.response(200, ProfileSchema)
@blp.doc(security=BEARER)
@require(RESIDENT)
def me():
    """My profile, with my assurance level"""
    person = _current_person()
    assurance.refresh_assurance(person)
    return person


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
