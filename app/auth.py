"""Who is calling: bearer-token checks for routes, and the JWT error answers as problems."""
from __future__ import annotations

from functools import wraps

import jwt as pyjwt
from flask import Flask, current_app, g, request

from app.errors import Problem, problem_response
from app.extensions import jwt
from app.tokens import TokenRevoked, family_active

RESIDENT = "resident"
SERVICE_POINT = "service-point"
ISSUER = "issuer"

BEARER = [{"bearerAuth": []}]


class WrongClientKind(Problem):
    type = "forbidden"
    status = 403
    title = "This token may not be used here"


class _BearerProblem(Problem):
    status = 401

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class MissingToken(_BearerProblem):
    type = "unauthorized"
    title = "Authentication is required"


class InvalidToken(_BearerProblem):
    type = "invalid-token"
    title = "The token is not valid"


class ExpiredToken(_BearerProblem):
    type = "token-expired"
    title = "The token has expired"


class RevokedToken(_BearerProblem):
    type = TokenRevoked.type
    title = TokenRevoked.title


def verified_claims(refresh: bool = False) -> dict:
    """The claims of the request's bearer token, verified once.

    flask-jwt-extended issues the tokens; checking them here with PyJWT directly parses each
    token once, where ``verify_jwt_in_request`` parses it four times (twice unverified for its
    callbacks): on a route as short as ``GET /me/code`` that was a third of the request.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingToken("Send a bearer token.")
    claims = decode_token(token, refresh)
    # Machine-client tokens carry no family; sign-in tokens live as long as theirs.
    if "fam" in claims and not family_active(claims["fam"]):
        raise RevokedToken()
    return claims


def decode_token(token: str, refresh: bool = False) -> dict:
    """The verified claims of an access (or refresh) token this app issued; raises
    ``ExpiredToken`` or ``InvalidToken``. Whether its sign-in still lives is the caller's."""
    cfg = current_app.config
    try:
        claims = pyjwt.decode(token, cfg["JWT_SECRET_KEY"], algorithms=[cfg["JWT_ALGORITHM"]],
                              leeway=cfg["JWT_DECODE_LEEWAY"],
                              options={"require": ["exp", "iat", "sub", "jti"]})
    except pyjwt.ExpiredSignatureError:
        raise ExpiredToken() from None
    except pyjwt.InvalidTokenError:
        raise InvalidToken() from None
    if claims.get("type") != ("refresh" if refresh else "access"):
        raise InvalidToken()
    return claims


def require(kind: str, refresh: bool = False):
    """Route decorator: a valid bearer token of this client kind; sets ``g.principal_id`` and
    ``g.claims``."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            claims = verified_claims(refresh)
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
