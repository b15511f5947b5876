"""Who is calling: bearer-token checks for routes, and the JWT error answers as problems."""
from __future__ import annotations

from functools import wraps

from flask import Flask, g
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from app.errors import Problem, problem_response
from app.extensions import jwt
from app.tokens import family_active

RESIDENT = "resident"
SERVICE_POINT = "service-point"
ISSUER = "issuer"

BEARER = [{"bearerAuth": []}]


class WrongClientKind(Problem):
    type = "forbidden"
    status = 403
    title = "This token may not be used here"


def require(kind: str, refresh: bool = False):
    """Route decorator: a valid bearer token of this client kind; sets ``g.principal_id``."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            claims = get_jwt()
            if claims.get("kind") != kind:
                raise WrongClientKind()
            g.principal_id = claims["sub"]
            g.claims = claims
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def init_jwt(app: Flask) -> None:
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    app.config.setdefault("JWT_ALGORITHM", "HS256")
    app.config.setdefault("JWT_DECODE_LEEWAY", 0)

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload):
        # Machine-client tokens carry no family; sign-in tokens live as long as theirs.
        return "fam" in payload and not family_active(payload["fam"])

    def _unauthorized(type_: str, title: str, detail: str | None = None):
        return problem_response(type_, 401, title, detail, {"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda reason: _unauthorized(
        "unauthorized", "Authentication is required", "Send a bearer token."))
    jwt.invalid_token_loader(lambda reason: _unauthorized(
        "invalid-token", "The token is not valid"))
    jwt.expired_token_loader(lambda h, p: _unauthorized(
        "token-expired", "The token has expired"))
    jwt.revoked_token_loader(lambda h, p: _unauthorized(
        "token-revoked", "This sign-in has ended"))
    jwt.needs_fresh_token_loader(lambda h, p: _unauthorized(
        "unauthorized", "A fresh sign-in is required"))
    jwt.user_lookup_error_loader(lambda h, p: _unauthorized(
        "invalid-token", "The token is not valid"))
