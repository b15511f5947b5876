"""The counter's server-side session: the service point's token lives in Redis, never in the
browser. The browser holds only a random session id in an HttpOnly, SameSite=Strict cookie
scoped to ``/counter/``; signing out deletes the Redis entry, and with it the token.

Each use reads the token back and checks it as the API's bearer check would (its times, its
kind, the client still active and in the token's generation), so a disabled service point's
console stops at once and an expired token asks the staff to sign in again.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask import current_app, g, request

from core.auth import SERVICE_POINT, check_client, decode_token
from core.errors import Problem
from core.store import redis_client

COOKIE = "oc_counter"
PATH = "/counter/"


class SignInAgain(Problem):
    type = "unauthorized"
    status = 401
    title = "Sign in again"

    def __init__(self):
        super().__init__("The counter's sign-in has ended. Sign in with the service point's "
                         "credentials again.")


@dataclass(frozen=True)
class Counter:
    """A signed-in counter: its service point's row and what the page needs of it."""

    point: object
    purpose: str | None


def _key(session_id: str) -> str:
    return f"web:counter:{{{session_id}}}"


def _session_id() -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if 20 <= len(value) <= 64 and value.isascii() else None


def start(token: dict) -> None:
    """Keep the service point's token for the browser's new session (until it expires)."""
    end()
    session_id = secrets.token_urlsafe(32)
    seconds = int(token["expires_in"])
    redis_client().set(_key(session_id), json.dumps({"token": token["access_token"]}), ex=seconds)
    g.counter_cookie = (session_id, seconds)


def end() -> None:
    session_id = _session_id()
    if session_id:
        redis_client().delete(_key(session_id))
    g.counter_cookie = ("", 0)


def _stored() -> dict | None:
    session_id = _session_id()
    raw = redis_client().get(_key(session_id)) if session_id else None
    return json.loads(raw) if raw else None


def current() -> Counter | None:
    """The signed-in counter of this browser, or None (no session, or its token no longer
    holds: then the session is ended)."""
    stored = _stored()
    if stored is None:
        return None
    try:
        claims = decode_token(stored["token"])
        if claims.get("kind") != SERVICE_POINT:
            raise SignInAgain()
        point = check_client(SERVICE_POINT, claims)
    except Problem:
        end()
        return None
    return Counter(point, stored.get("purpose"))


def require() -> Counter:
    """The signed-in counter; ``SignInAgain`` (401) when there is none."""
    counter = current()
    if counter is None:
        raise SignInAgain()
    return counter


def remember_purpose(purpose: str) -> None:
    session_id = _session_id()
    stored = _stored()
    if stored is None:
        return
    stored["purpose"] = purpose
    redis_client().set(_key(session_id), json.dumps(stored), keepttl=True)


def set_cookie(response):
    """``after_request``: the cookie that start() or end() decided on."""
    decided = g.pop("counter_cookie", None)
    if decided is None:
        return response
    session_id, seconds = decided
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if session_id:
        response.set_cookie(COOKIE, session_id, max_age=seconds, path=PATH, httponly=True,
                            samesite="Strict", secure=secure)
    else:
        response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="Strict", secure=secure)
    return response
