"""Refreshing and ending a resident's sign-in (the token families of ``app.tokens``)."""
from __future__ import annotations

from core import metrics
from core.auth import InvalidToken, decode_token
from core.tokens import end_session, rotate
from identity.errors import SubjectSuspended
from identity.models import ACTIVE
from identity.service import get_person


@metrics.counted(metrics.SIGN_INS, method="refresh")
def refresh_session(refresh_token: str) -> dict:
    """Spend a resident's refresh token and return the next token pair.

    Raises ``InvalidToken`` (not a resident's refresh token, or its person is gone),
    ``TokenExpired``, ``app.tokens.TokenReused`` (spent before: the whole sign-in is revoked),
    ``app.tokens.TokenRevoked`` (signed out) and ``SubjectSuspended`` (the sign-in is ended).
    """
    try:
        claims = decode_token(refresh_token, refresh=True)
    except InvalidToken:
        raise InvalidToken("Send a refresh token.") from None
    if claims.get("kind") != "resident" or not claims.get("fam"):
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
