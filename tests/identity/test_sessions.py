"""Refreshing and ending a sign-in: rotation, reuse detection, logout."""
import pytest
from flask_jwt_extended import decode_token

from core.extensions import db
from core.tokens import client_token
from identity.models import SUSPENDED, Person
from tests.helpers import auth_headers, login, resident

PROBLEM = "application/problem+json"


def assert_problem(response, status, short_type):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/" + short_type)


def refresh(client, token, in_body=False):
    if in_body:
        return client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    return client.post("/api/v1/auth/refresh", headers=auth_headers(token))


def me(client, access_token):
    return client.get("/api/v1/me", headers=auth_headers(access_token))


@pytest.mark.parametrize("in_body", [False, True], ids=["bearer", "body"])
def test_refresh_gives_a_new_pair_that_works(client, in_body):
    r = resident(client)
    response = refresh(client, r["tokens"]["refresh_token"], in_body)
    assert response.status_code == 200
    pair = response.json
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != r["tokens"]["refresh_token"]
    assert me(client, pair["access_token"]).status_code == 200
    # The same sign-in, with the same claims.
    old, new = decode_token(r["tokens"]["access_token"]), decode_token(pair["access_token"])
    for claim in ("sub", "fam", "kind", "h", "acr", "amr"):
        assert old[claim] == new[claim]


def test_a_spent_refresh_token_revokes_the_whole_sign_in(client):
    r = resident(client)
    first = r["tokens"]["refresh_token"]
    pair = refresh(client, first).json
    assert_problem(refresh(client, first), 401, "token-reused")
    # Everything of that family stops: the new access and refresh tokens, the old access.
    assert me(client, pair["access_token"]).status_code == 401
    assert me(client, r["tokens"]["access_token"]).status_code == 401
    assert refresh(client, pair["refresh_token"]).status_code == 401
    # Another sign-in of the same person is untouched.
    other = login(client, r["phone"], r["password"])
    assert me(client, other["access_token"]).status_code == 200


def test_a_chain_of_refreshes_keeps_working(client):
    r = resident(client)
    token = r["tokens"]["refresh_token"]
    for _ in range(3):
        pair = refresh(client, token).json
        token = pair["refresh_token"]
    assert me(client, pair["access_token"]).status_code == 200


def test_an_access_token_is_not_a_refresh_token(client):
    r = resident(client)
    assert_problem(refresh(client, r["tokens"]["access_token"]), 401, "invalid-token")
    assert_problem(refresh(client, r["tokens"]["access_token"], in_body=True), 401, "invalid-token")
    # And it did not spend or revoke anything.
    assert refresh(client, r["tokens"]["refresh_token"]).status_code == 200


def test_a_refresh_token_is_not_an_access_token(client):
    r = resident(client)
    assert me(client, r["tokens"]["refresh_token"]).status_code == 401


def test_a_machine_clients_token_cannot_refresh(client):
    token = client_token("sp-1", "service-point")["access_token"]
    assert_problem(refresh(client, token), 401, "invalid-token")


@pytest.mark.parametrize("token, status", [("", 401), ("garbage", 401), ("a.b.c", 401),
                                           ("x" * 5000, 422)])
def test_broken_refresh_tokens_are_refused(client, token, status):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code == status and response.mimetype == PROBLEM


@pytest.mark.parametrize("body", [None, {}, {"refresh_token": None}, {"refresh_token": 5}])
def test_no_usable_refresh_token_is_a_4xx_problem(client, body):
    response = client.post("/api/v1/auth/refresh", json=body)
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM


def test_a_tampered_refresh_token_is_invalid(client):
    r = resident(client)
    token = r["tokens"]["refresh_token"]
    head, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"  # the first character's bits all count
    tampered = ".".join([head, payload, flipped + signature[1:]])
    assert_problem(refresh(client, tampered), 401, "invalid-token")


def test_an_expired_refresh_token_is_refused(app, client, clock):
    r = resident(client)
    clock.shift(app.config["REFRESH_TOKEN_SECONDS"] + 1)
    assert_problem(refresh(client, r["tokens"]["refresh_token"]), 401, "token-expired")


def test_the_access_token_expires_and_refresh_renews_it(app, client, clock):
    r = resident(client)
    clock.shift(app.config["ACCESS_TOKEN_SECONDS"] + 1)
    assert_problem(me(client, r["tokens"]["access_token"]), 401, "token-expired")
    pair = refresh(client, r["tokens"]["refresh_token"]).json
    assert me(client, pair["access_token"]).status_code == 200


def test_logout_ends_that_sign_in_at_once(client):
    r = resident(client)
    other = login(client, r["phone"], r["password"])
    response = client.post("/api/v1/auth/logout", headers=r["headers"])
    assert response.status_code == 204 and response.data == b""
    assert_problem(me(client, r["tokens"]["access_token"]), 401, "token-revoked")
    assert_problem(refresh(client, r["tokens"]["refresh_token"]), 401, "token-revoked")
    assert client.post("/api/v1/auth/logout", headers=r["headers"]).status_code == 401
    assert me(client, other["access_token"]).status_code == 200


def test_logout_needs_an_access_token(client):
    r = resident(client)
    assert_problem(client.post("/api/v1/auth/logout"), 401, "unauthorized")
    assert client.post("/api/v1/auth/logout",
                       headers=auth_headers(r["tokens"]["refresh_token"])).status_code == 401
    assert me(client, r["tokens"]["access_token"]).status_code == 200


def test_refresh_for_a_suspended_person_ends_the_sign_in(client):
    r = resident(client)
    person = db.session.get(Person, r["profile"]["id"])
    person.status = SUSPENDED
    db.session.commit()
    assert_problem(refresh(client, r["tokens"]["refresh_token"]), 403, "subject-suspended")
    assert me(client, r["tokens"]["access_token"]).status_code == 401
