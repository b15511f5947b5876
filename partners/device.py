"""Scan-to-login and the device authorization grant (RFC 8628), kept in Redis.

A *login request* has a secret ``device_code`` (only its digest is a key) held by whoever
polls — a partner's device, or the browser on our own sign-in page — and a short
``user_code`` that the phone app reads from the QR code and shows beside the partner's name
so that the resident can compare. The resident's answer is stored once (``SET NX``); the
poller takes an approval once (``DEL``), so one approval yields one sign-in.

User codes are 8 letters from a 20-letter alphabet without vowels (RFC 8628 §6.1):
20^8 ≈ 2^34.6 codes, of which few live at once; a resident may try only
``OIDC_USER_CODE_MISSES`` unknown codes per window, so guessing a live one is hopeless.

Keys: ``oidc:dc:{D}`` (the request) and ``oidc:dd:{D}`` (the answer) share the hash tag of
the device code's digest; ``oidc:uc:{U}`` maps a user code to it.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from flask import current_app

from core import clock, ratelimit
from core.store import redis_client
from partners.models import digest

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
# The request outlives its user code a little, so a late poll hears expired_token.
_AFTERLIFE = 600
BROWSER = "browser"
DEVICE = "device"


@dataclass
class LoginRequest:
    """A login request as the phone app and the poller see it."""

    device_key: str
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    interval: int
    last_poll: float
    kind: str
    # The partner's generation when the request began: a disable ends the request.
    generation: int = 0

    # Authlib's DeviceCredentialMixin.
    def get_client_id(self):
        return self.client_id

    def get_scope(self):
        return self.scope

    def get_user_code(self):
        return self.user_code

    def is_expired(self):
        return self.expires_at <= clock.timestamp()


@dataclass
class Answer:
    """The resident's answer to a login request."""

    approved: bool
    person_id: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()

    # Read by the OpenID Connect extension through ``request.authorization_code``.
    def get_nonce(self):
        return None

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return self.acr

    def get_amr(self):
        return list(self.amr)


def _request_key(device_key: str) -> str:
    return f"oidc:dc:{{{device_key}}}"


def _answer_key(device_key: str) -> str:
    return f"oidc:dd:{{{device_key}}}"


def _user_code_key(user_code: str) -> str:
    return f"oidc:uc:{{{user_code}}}"


def new_user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return letters[:4] + "-" + letters[4:]


def normalise_user_code(text: str) -> str | None:
    """``bcdf ghjk`` → ``BCDF-GHJK``; None when it cannot be a user code."""
    letters = re.sub(r"[\s-]", "", text or "").upper()
    if len(letters) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in letters):
        return None
    return letters[:4] + "-" + letters[4:]


def start_login_request(client, scope: str, kind: str) -> dict:
    """A new login request for ``client`` (a partner's registration). Returns
    ``device_code``, ``user_code``, ``expires_in`` and ``interval``; the device code is shown
    only here."""
    cfg = current_app.config
    ttl, interval = cfg["OIDC_DEVICE_CODE_SECONDS"], cfg["OIDC_DEVICE_POLL_SECONDS"]
    r = redis_client()
    device_code = secrets.token_urlsafe(32)
    device_key = digest(device_code)
    for _ in range(10):
        user_code = new_user_code()
        if r.set(_user_code_key(user_code), device_key, nx=True, ex=ttl):
            break
    else:
        raise RuntimeError("could not find a free user code")
    record = {"client_id": client.client_id, "scope": scope or "", "user_code": user_code,
              "expires_at": clock.timestamp() + ttl, "interval": interval, "last_poll": 0,
              "kind": kind, "generation": client.generation}
    r.set(_request_key(device_key), json.dumps(record), ex=ttl + _AFTERLIFE)
    return {"device_code": device_code, "user_code": user_code, "expires_in": ttl,
            "interval": interval}


def _load(device_key: str) -> LoginRequest | None:
    raw = redis_client().get(_request_key(device_key))
    if raw is None:
        return None
    return LoginRequest(device_key=device_key, **json.loads(raw))


def login_request(device_code: str) -> LoginRequest | None:
    """The login request of a device code, or None."""
    return _load(digest(device_code))


def note_poll(request: LoginRequest) -> bool:
    """Record a poll; True when it came sooner than the interval allows (then the interval
    grows by 5 seconds, RFC 8628 §3.5)."""
    now = clock.timestamp()
    too_soon = now - request.last_poll < request.interval
    record = {"client_id": request.client_id, "scope": request.scope,
              "user_code": request.user_code, "expires_at": request.expires_at,
              "interval": request.interval + (5 if too_soon else 0), "last_poll": now,
              "kind": request.kind, "generation": request.generation}
    redis_client().set(_request_key(request.device_key), json.dumps(record), keepttl=True)
    return too_soon


def is_current(request: LoginRequest, client) -> bool:
    """Whether the request began in the partner's present generation (not before a disable)."""
    return client is not None and request.generation == client.generation


def answer_of(request: LoginRequest) -> Answer | None:
    """The resident's answer so far, or None while none came."""
    raw = redis_client().get(_answer_key(request.device_key))
    return Answer(**json.loads(raw)) if raw else None


def take_approval(request: LoginRequest) -> bool:
    """Spend an approval: True for exactly one caller, and the request ends."""
    r = redis_client()
    taken = r.delete(_answer_key(request.device_key)) == 1
    if taken:
        r.delete(_request_key(request.device_key))
    return taken


def find_for_resident(user_code: str, person_id: str) -> LoginRequest | None:
    """The live login request with this user code, as the phone app asks for it.

    Returns None for an unknown, expired or answered one. Raises ``TooManyAttempts`` once the
    resident has tried too many unknown codes in the window (each miss counts).
    """
    cfg = current_app.config
    r = redis_client()
    misses = ratelimit.Misses("oidc:ucmiss", person_id, cfg["OIDC_USER_CODE_MISSES"],
                              cfg["OIDC_USER_CODE_WINDOW_SECONDS"], r)
    misses.check()
    code = normalise_user_code(user_code)
    device_key = r.get(_user_code_key(code)) if code else None
    request = _load(device_key.decode()) if device_key else None
    if request is None or request.is_expired():
        misses.miss()
        return None
    return request


def answer(request: LoginRequest, approved: bool, person_id: str, acr: str,
           amr: tuple[str, ...] = ("swk",)) -> bool:
    """Store the resident's answer; False when one was given already (the code is spent)."""
    r = redis_client()
    if r.delete(_user_code_key(request.user_code)) != 1:
        return False
    body = Answer(approved=approved, person_id=person_id if approved else None,
                  auth_time=int(clock.timestamp()) if approved else None,
                  acr=acr if approved else None, amr=tuple(amr) if approved else ())
    ttl = max(1, int(request.expires_at - clock.timestamp()) + _AFTERLIFE)
    return bool(r.set(_answer_key(request.device_key), json.dumps(body.__dict__), nx=True, ex=ttl))
