"""Bearer tokens as a route sees them: one check, the same answers for every client kind."""
import base64
import json
from datetime import timedelta

import jwt as pyjwt
import pytest

from tests.helpers import auth_headers, resident


def _problem(response, status, short_name):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/" + short_name)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer   ", "Basic abc", "bearer"])
def test_no_bearer_token_is_unauthorized(client, header):
    headers = {"Authorization": header} if header else {}
    _problem(client.get("/api/v1/me/code", headers=headers), 401, "unauthorized")


def test_an_unsigned_token_is_refused(client, clock):
    holder = resident(client)
    header, payload, _ = holder["tokens"]["access_token"].split(".")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    _problem(client.get("/api/v1/me/code", headers=auth_headers(unsigned)), 401, "invalid-token")


def test_a_token_signed_with_another_key_is_refused(client, clock):
    holder = resident(client)
    claims = pyjwt.decode(holder["tokens"]["access_token"], options={"verify_signature": False})
    forged = pyjwt.encode(claims, "another-key-" + "x" * 32, algorithm="HS256")
    _problem(client.get("/api/v1/me/code", headers=auth_headers(forged)), 401, "invalid-token")


def test_a_refresh_token_is_no_access_token(client, clock):
    holder = resident(client)
    refresh = auth_headers(holder["tokens"]["refresh_token"])
    _problem(client.get("/api/v1/me/code", headers=refresh), 401, "invalid-token")


def test_an_expired_access_token_says_so(client, clock, app):
    holder = resident(client)
    clock.shift(timedelta(seconds=app.config["ACCESS_TOKEN_SECONDS"] + 1))
    _problem(client.get("/api/v1/me/code", headers=holder["headers"]), 401, "token-expired")


def test_a_token_in_use_still_expires_on_time(client, clock, app):
    # Each worker keeps the claims of tokens it verified; their times are checked on every use.
    holder = resident(client)
    lifetime = app.config["ACCESS_TOKEN_SECONDS"]
    assert client.get("/api/v1/me/code", headers=holder["headers"]).status_code == 200
    clock.shift(timedelta(seconds=lifetime - 1))
    assert client.get("/api/v1/me/code", headers=holder["headers"]).status_code == 200
    clock.shift(timedelta(seconds=2))
    _problem(client.get("/api/v1/me/code", headers=holder["headers"]), 401, "token-expired")


def test_a_token_used_before_it_was_issued_is_refused(client, clock):
    holder = resident(client)
    assert client.get("/api/v1/me/code", headers=holder["headers"]).status_code == 200
    clock.shift(timedelta(seconds=-60))
    _problem(client.get("/api/v1/me/code", headers=holder["headers"]), 401, "invalid-token")


def test_after_logout_the_access_token_is_revoked(client, clock):
    holder = resident(client)
    assert client.post("/api/v1/auth/logout", headers=holder["headers"]).status_code == 204
    _problem(client.get("/api/v1/me/code", headers=holder["headers"]), 401, "token-revoked")


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/me/wallet", "/api/v1/me/home",
                                  "/api/v1/me/policies"])
def test_a_token_whose_person_is_gone_is_invalid_everywhere(client, clock, path):
    from core.extensions import db
    from identity.models import Person

    holder = resident(client)
    db.session.delete(db.session.get(Person, holder["profile"]["id"]))
    db.session.commit()
    _problem(client.get(path, headers=holder["headers"]), 401, "invalid-token")
