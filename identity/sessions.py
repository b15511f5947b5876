"""Refreshing and ending a resident's sign-in (the token families of ``app.tokens``)."""
from __future__ import annotations

import jwt as pyjwt
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from app.tokens import end_session, rotate
from identity.errors import InvalidToken, SubjectSuspended, TokenExpired
from identity.models import ACTIVE
from identity.service import get_person


def refresh_session(refresh_token: str) -> dict:
    """Spend a resident's refresh token and return the next token pair.

    Raises ``InvalidToken`` (not a resident's refresh token, or its person is gone),
    ``TokenExpired``, ``app.tokens.TokenReused`` (spent before: the whole sign-in is revoked),
    ``app.tokens.TokenRevoked`` (signed out) and ``SubjectSuspended`` (the sign-in is ended).
    """
    try:
        claims = decode_token(refresh_token)
    except pyjwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except (pyjwt.PyJWTError, JWTExtendedException):
        raise InvalidToken() from None
    if claims.get("type") != "refresh" or claims.get("kind") != "resident" or not claims.get("fam"):
        raise InvalidToken("Send a refresh token.")
    person = get_person(claims["sub"])
    if person is None:
        end_session(claims["fam"])
        raise InvalidToken()
    if person.status != ACTIVE:
        end_session(claims["fam"])
        raise SubjectSuspended()
    return rotate(claims)


def end_sign_in(access_claims: dict) -> None:
    """Revoke the sign-in these access-token claims belong to."""
    end_session(access_claims["fam"])
