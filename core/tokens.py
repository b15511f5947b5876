"""Sign-in sessions: JWT access and refresh tokens with rotation and instant revocation.

A sign-in is a *family*. Redis holds ``fam:{F}`` while the family lives and ``rt:{F}:<jti>``
for the one refresh token that may still be spent. Every access token names its family, so
deleting ``fam:{F}`` (logout, reuse detected) stops the access and refresh tokens at once.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from core.errors import Problem
from core.ids import new_id
from core.store import redis_client


class TokenReused(Problem):
    type = "token-reused"
    status = 401
    title = "This refresh token was already used; the sign-in has been revoked"


class TokenRevoked(Problem):
    type = "token-revoked"
    status = 401
    title = "This sign-in has ended"


def family_key(family: str) -> str:
    return f"fam:{{{family}}}"


def _refresh_key(family: str, jti: str) -> str:
    return f"rt:{{{family}}}:{jti}"


def _pair(subject: str, family: str, claims: dict) -> dict:
    cfg = current_app.config
    access = create_access_token(
        identity=subject,
        additional_claims={**claims, "fam": family},
        expires_delta=timedelta(seconds=cfg["ACCESS_TOKEN_SECONDS"]),
    )
    # The refresh token's id is chosen here, so it need not be decoded back out of the token.
    jti = new_id()
    refresh = create_refresh_token(
        identity=subject,
        additional_claims={**claims, "fam": family, "jti": jti},
        expires_delta=timedelta(seconds=cfg["REFRESH_TOKEN_SECONDS"]),
    )
    ttl = cfg["REFRESH_TOKEN_SECONDS"]
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(family_key(family), 1, ex=ttl)
    pipe.set(_refresh_key(family, jti), 1, ex=ttl)
    pipe.execute()
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": cfg["ACCESS_TOKEN_SECONDS"],
    }


def start_session(subject: str, claims: dict) -> dict:
    """Open a new sign-in family and return its first token pair."""
    return _pair(subject, new_id(), claims)


def rotate(refresh_claims: dict) -> dict:
    """Spend a refresh token and return the next pair.

    Raises ``TokenReused`` (and revokes the whole family) when the token was already spent,
    ``TokenRevoked`` when the family has ended.
    """
    family, jti = refresh_claims["fam"], refresh_claims["jti"]
    r = redis_client()
    # DEL is atomic: of two requests racing with one token, exactly one wins.
    if r.delete(_refresh_key(family, jti)) == 1 and r.exists(family_key(family)):
        claims = {k: v for k, v in refresh_claims.items()
                  if k not in ("fam", "jti", "exp", "iat", "nbf", "sub", "type", "fresh", "csrf")}
        return _pair(refresh_claims["sub"], family, claims)
    if r.delete(family_key(family)) == 1:
        raise TokenReused()
    raise TokenRevoked()


def end_session(family: str) -> None:
    """Revoke a sign-in family: its access and refresh tokens stop working at once."""
    redis_client().delete(family_key(family))


def client_token(subject: str, kind: str, claims: dict | None = None) -> dict:
    """An access token for a machine client (service point, issuer); no refresh, no family."""
    seconds = current_app.config["CLIENT_TOKEN_SECONDS"]
    token = create_access_token(
        identity=subject,
        additional_claims={**(claims or {}), "kind": kind},
        expires_delta=timedelta(seconds=seconds),
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": seconds}
