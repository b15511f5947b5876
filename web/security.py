"""What keeps the pages safe: their headers, CSRF tokens, and the cookie settings.

- Every page and script comes from this origin: ``script-src 'self'`` with no inline script,
  nothing loaded or sent elsewhere (``default-src 'self'``), no framing.
- Forms carry a CSRF token from the signed session cookie (``csrf_token`` field); the pages'
  own JSON calls send it in ``X-CSRF-Token``. Compared in constant time.
- Cookies are HttpOnly and SameSite, and Secure when ``PUBLIC_URL`` is https.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session

from core.errors import Problem

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class CsrfFailed(Problem):
    type = "csrf-failed"
    status = 403
    title = "This page has expired"

    def __init__(self):
        super().__init__("Reload the page and try again.")


def csrf_token() -> str:
    """The CSRF token of this browser's session, made on first need."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def renew_csrf_token() -> None:
    """A new token at each sign-in and sign-out, so one seen before does not carry over."""
    session["csrf"] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    """Raises ``CsrfFailed`` unless the request carries this session's token, in the form
    field ``csrf_token`` or the header ``X-CSRF-Token``."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf", "")
    # As bytes: compare_digest refuses str with characters outside ASCII.
    if not (sent and expected and hmac.compare_digest(sent.encode(), expected.encode())):
        raise CsrfFailed()


def page_headers(response):
    """``after_request`` of the page blueprints."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


def secure_cookies(app: Flask) -> None:
    public_url = app.config.get("PUBLIC_URL") or ""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = public_url.startswith("https://")
