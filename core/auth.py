"""Who is calling: bearer-token checks for routes, and the JWT error answers as problems."""
from __future__ import annotations

from functools import lru_cache, partial, wraps

import jwt as pyjwt
from flask import Flask, current_app, g, request

from core import clients, clock
from core.errors import Problem
from core.store import get_many
from core.tokens import TokenRevoked, family_key

RESIDENT = "resident"
SERVICE_POINT = "service-point"
ISSUER = "issuer"
# Client kinds an operator can disable: their tokens are checked against the client's row
# on every request (``app.clients``).
MACHINE_KINDS = (SERVICE_POINT, ISSUER)

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


class ClientDisabled(_BearerProblem):
    type = "client-disabled"
    title = "This client has been disabled"


def check_client(kind: str, claims: dict, cached: bool = False):
    """The client row of a machine client's token, which holds only while the client is
    active and in the generation the token names (``app.clients``). Raises ``ClientDisabled``,
    ``RevokedToken`` (a token from before a disable, its client enabled again) or
    ``InvalidToken`` (no such client). ``cached``: this worker's snapshot of the client
    instead of its row (``clients.cached_state``), for a route whose write checks again."""
    load = clients.loader(kind)
    if load is None:
        raise RuntimeError(f"no package registered the client kind {kind!r}")
    client = clients.cached_state(kind, claims["sub"]) if cached else load(claims["sub"])
    check_client_state(client, claims.get("gen", 0))
    return client


def check_client_state(client, generation: int) -> None:
    """Whether a client (a row, a snapshot, or a row of its ``active`` and ``generation``;
    None when there is none) still honours a token of ``generation``; raises as
    ``check_client`` does."""
    if client is None:
        raise InvalidToken()
    if not client.active:
        raise ClientDisabled("An operator disabled this client; its tokens no longer work.")
    if generation != client.generation:
        raise RevokedToken("The client was disabled after this token was issued; ask for a new one.")


def verified_claims(refresh: bool = False, prefetch=None) -> tuple[dict, dict]:
    """The claims of the request's bearer token, and the Redis values the route asked for
    (``bearer_claims`` of its ``Authorization`` header)."""
    return bearer_claims(request.headers.get("Authorization", ""), refresh, prefetch)


def bearer_claims(authorization: str, refresh: bool = False, prefetch=None) -> tuple[dict, dict]:
    """The claims of the bearer token in an ``Authorization`` header's value, and the Redis
    values asked for; raises the bearer problems.

    A sign-in's access tokens live only as long as its family (``app.tokens``), so every
    request reads ``fam:{F}`` from Redis. ``prefetch(claims)`` names more keys the route will
    read; they come back in the same round trip (``app.store.get_many``), so a route that
    needs only Redis, such as ``GET /me/code``, answers after a single round trip.
    """
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingToken("Send a bearer token.")
    claims = decode_token(token, refresh)
    keys = list(prefetch(claims)) if prefetch else []
    signed_in = "fam" in claims  # machine-client tokens carry no family
    if signed_in:
        if not claims["fam"]:
            raise InvalidToken()
        keys.append(family_key(claims["fam"]))
    values = get_many(keys) if keys else []
    if signed_in and values.pop() is None:
        raise RevokedToken()
    return claims, dict(zip(keys, values))


def _verified_signature(secret: str, algorithm: str, token: str) -> dict:
    """The claims of a token whose signature and shape check out; times are checked by the
    caller on every use, since the result is cached."""
    return pyjwt.decode(token, secret, algorithms=[algorithm],
                        options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": False,
                                 "verify_iat": False, "verify_nbf": False})


def decode_token(token: str, refresh: bool = False) -> dict:
    """The verified claims of an access (or refresh) token this app issued; raises
    ``ExpiredToken`` or ``InvalidToken``. Whether its sign-in still lives is the caller's.

    A phone sends the same access token with every request for its lifetime, so each worker
    keeps the claims of the tokens it verified (``TOKEN_CACHE_SIZE``, least recently used
    first out) keyed by the exact token text: the signature is checked once, the times on
    every use. The claims are shared between requests: read them, never change them.
    """
    try:
        claims = current_app.extensions["verified_tokens"](token)
    except pyjwt.InvalidTokenError:
        raise InvalidToken() from None
    leeway = current_app.config["JWT_DECODE_LEEWAY"]
    now = clock.timestamp()
    if claims["exp"] <= now - leeway:
        raise ExpiredToken()
    if claims["iat"] > now + leeway or claims.get("nbf", 0) > now + leeway:
        raise InvalidToken()
    if claims.get("type") != ("refresh" if refresh else "access"):
        raise InvalidToken()
    return claims


def require(kind: str, refresh: bool = False, prefetch=None, cached_client: bool = False):
    """Route decorator: a valid bearer token of this client kind; sets ``g.principal_id``,
    ``g.claims`` and ``g.prefetched`` (the values of the Redis keys that ``prefetch(claims)``
    names, read with the sign-in check; see ``verified_claims``). For a machine client
    (``MACHINE_KINDS``) the client must be active and the token of its current generation
    (``check_client``); its row is ``g.client`` (its worker's snapshot with
    ``cached_client``, for a route whose durable write checks the client again)."""

    def check() -> None:
        claims, g.prefetched = verified_claims(refresh, prefetch)
        if claims.get("kind") != kind:
            raise WrongClientKind()
        if kind in MACHINE_KINDS:
            # Kept on ``g`` for the request: the session's identity map holds rows weakly, and
            # this reference lets the route read the row again without a query.
            g.client = check_client(kind, claims, cached_client)
        g.principal_id = claims["sub"]
        g.claims = claims

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if g.get("bearer_checked") is not check:
                check()
            return fn(*args, **kwargs)

        # flask-smorest's decorators copy this attribute outward (functools.wraps), so the
        # view function Flask dispatches to carries it whatever the decorators' order.
        wrapper.bearer_check = check
        return wrapper

    return decorator


def check_bearer_first() -> None:
    """``before_request``: the token of a route that ``require``s one is checked before
    anything reads the body, so a request without a valid token gets 401, never a
    validation answer about a body it had no right to send."""
    view = current_app.view_functions.get(request.endpoint or "")
    check = getattr(view, "bearer_check", None)
    if check is not None:
        check()
        g.bearer_checked = check


def init_jwt(app: Flask) -> None:
    """flask-jwt-extended signs the tokens (``app.tokens``); this module checks them, so no
    route goes through flask-jwt-extended's own verification or its error callbacks."""
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    app.config.setdefault("JWT_ALGORITHM", "HS256")
    app.config.setdefault("JWT_DECODE_LEEWAY", 0)
    app.extensions["verified_tokens"] = lru_cache(maxsize=app.config.get("TOKEN_CACHE_SIZE", 10_000))(
        partial(_verified_signature, app.config["JWT_SECRET_KEY"], app.config["JWT_ALGORITHM"]))
