"""Signing in with a password, as the phone app does, and the throttle that guards it."""
import json

import pytest
from flask_jwt_extended import decode_token

from core.extensions import db
from core.store import redis_client
from identity import passwords
from identity.models import SUSPENDED, Person
from tests.helpers import DEFAULT_PASSWORD, auth_headers, register, registration_data

PROBLEM = "application/problem+json"
WRONG = "not the password at all"


def post_login(client, username, password, otp=None, address="203.0.113.1"):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/login", json=body, environ_base={"REMOTE_ADDR": address})


def assert_problem(response, status, short_type):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/" + short_type)


@pytest.fixture
def person(client):
    data = register(client)
    assert data["status"] == 201
    return data


def test_sign_in_with_the_phone_number(client, person):
    response = post_login(client, person["phone"], DEFAULT_PASSWORD)
    assert response.status_code == 200
    tokens = response.json
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = client.get("/api/v1/me", headers=auth_headers(tokens["access_token"]))
    assert me.status_code == 200 and me.json["id"] == person["profile"]["id"]


@pytest.mark.parametrize("spelling", ["ascii", "lower-x", "full-width", "spaced"])
def test_sign_in_with_the_id_number_however_typed(client, spelling):
    fresh = next(d for d in iter(registration_data, None) if d["id_number"].endswith("X"))
    assert register(client, **fresh)["status"] == 201
    number = fresh["id_number"]
    typed = {
        "ascii": number,
        "lower-x": number.lower(),
        "full-width": number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        "spaced": f"{number[:6]} {number[6:14]} {number[14:]}",
    }[spelling]
    assert post_login(client, typed, DEFAULT_PASSWORD).status_code == 200


def test_sign_in_with_a_prefixed_phone_number(client, person):
    assert post_login(client, "+86" + person["phone"], DEFAULT_PASSWORD).status_code == 200


def test_the_tokens_carry_the_resident_claims(client, person):
    tokens = post_login(client, person["phone"], DEFAULT_PASSWORD).json
    claims = decode_token(tokens["access_token"])
    stored = db.session.get(Person, person["profile"]["id"])
    assert claims["sub"] == stored.id
    assert claims["kind"] == "resident"
    assert claims["h"] == stored.handle
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]
    assert claims["fam"]
    token_text = json.dumps(claims, ensure_ascii=False)
    assert person["id_number"] not in token_text and person["phone"] not in token_text


def test_unknown_user_and_wrong_password_get_the_same_answer(client, person):
    unknown = post_login(client, registration_data()["phone"], DEFAULT_PASSWORD)
    wrong = post_login(client, person["phone"], WRONG)
    nonsense = post_login(client, "neither a phone nor an ID", DEFAULT_PASSWORD)
    for response in (unknown, wrong, nonsense):
        assert_problem(response, 401, "invalid-credentials")
    assert unknown.json == wrong.json == nonsense.json


def test_an_unknown_user_costs_one_argon2_verification(client, monkeypatch):
    calls = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    post_login(client, registration_data()["phone"], DEFAULT_PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_a_suspended_person_is_told_after_a_correct_password(client, person):
    stored = db.session.get(Person, person["profile"]["id"])
    stored.status = SUSPENDED
    db.session.commit()
    assert_problem(post_login(client, person["phone"], WRONG), 401, "invalid-credentials")
    assert_problem(post_login(client, person["phone"], DEFAULT_PASSWORD), 403, "subject-suspended")


def test_changed_argon2_settings_rehash_on_sign_in(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 1)
    data = register(client)
    stored = db.session.get(Person, data["profile"]["id"])
    assert ",t=1," in stored.password_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    assert post_login(client, data["phone"], DEFAULT_PASSWORD).status_code == 200
    db.session.refresh(stored)
    assert ",t=2," in stored.password_hash
    assert post_login(client, data["phone"], DEFAULT_PASSWORD).status_code == 200


BAD_VALUES = [None, 12345, True, [], {}, "", "9" * 1_000_000, ["a", "b"]]


@pytest.mark.parametrize("field", ["username", "password", "otp"])
@pytest.mark.parametrize("value", BAD_VALUES,
                         ids=lambda v: f"{type(v).__name__}{len(v) if hasattr(v, '__len__') else v}")
def test_bad_input_is_a_4xx_problem(client, person, field, value):
    body = {"username": person["phone"], "password": DEFAULT_PASSWORD, field: value}
    response = client.post("/api/v1/auth/login", json=body)
    if field == "otp" and value in (None, ""):
        # No one-time password, and this person has none: an ordinary sign-in.
        assert response.status_code == 200
        return
    assert 400 <= response.status_code < 500
    assert response.mimetype == PROBLEM
    assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize("body", ["[]", "{", "null", ""])
def test_a_body_that_is_not_an_object_is_a_4xx_problem(client, body):
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM


# Throttling ------------------------------------------------------------------------------


def fail(client, username, times, address="203.0.113.1"):
    for _ in range(times):
        assert_problem(post_login(client, username, WRONG, address=address),
                       401, "invalid-credentials")


def test_five_free_failures_then_a_lock_that_doubles(client, clock, person):
    fail(client, person["phone"], 6)  # five free, the sixth locks for 1 s
    locked = post_login(client, person["phone"], DEFAULT_PASSWORD)
    assert_problem(locked, 429, "too-many-attempts")
    assert locked.headers["Retry-After"] == "1"
    clock.shift(1)
    fail(client, person["phone"], 1)  # the seventh locks for 2 s
    assert post_login(client, person["phone"], WRONG).headers["Retry-After"] == "2"
    clock.shift(1)
    assert post_login(client, person["phone"], WRONG).headers["Retry-After"] == "1"
    clock.shift(1)
    assert post_login(client, person["phone"], DEFAULT_PASSWORD).status_code == 200


def test_while_locked_the_password_is_not_even_checked(client, clock, person, monkeypatch):
    fail(client, person["phone"], 6)
    calls = []
    monkeypatch.setattr(passwords, "verify_password", lambda *a: calls.append(a) or True)
    assert post_login(client, person["phone"], DEFAULT_PASSWORD).status_code == 429
    assert calls == []


def test_each_further_failure_doubles_the_lock(client, clock, person):
    fail(client, person["phone"], 6)
    waits = []
    for _ in range(6):
        wait = int(post_login(client, person["phone"], WRONG).headers["Retry-After"])
        waits.append(wait)
        clock.shift(wait)
        fail(client, person["phone"], 1)
    assert waits == [1, 2, 4, 8, 16, 32]


def test_success_resets_the_count_for_that_address(client, clock, person):
    fail(client, person["phone"], 5)
    assert post_login(client, person["phone"], DEFAULT_PASSWORD).status_code == 200
    fail(client, person["phone"], 5)  # five free again
    assert post_login(client, person["phone"], DEFAULT_PASSWORD).status_code == 200


def test_another_address_still_signs_in_while_one_is_locked(client, clock, person):
    fail(client, person["phone"], 6, address="198.51.100.66")
    assert post_login(client, person["phone"], DEFAULT_PASSWORD,
                      address="198.51.100.66").status_code == 429
    assert post_login(client, person["phone"], DEFAULT_PASSWORD,
                      address="192.0.2.10").status_code == 200


def test_the_phone_and_the_id_number_share_one_count(client, clock, person):
    fail(client, person["phone"], 3)
    fail(client, person["id_number"], 3)
    assert_problem(post_login(client, person["id_number"], DEFAULT_PASSWORD),
                   429, "too-many-attempts")


def test_failures_from_many_addresses_lock_the_account_only_briefly(client, clock, person):
    for i in range(4):
        fail(client, person["phone"], 5, address=f"198.51.100.{i}")
    assert post_login(client, person["phone"], WRONG, address="198.51.100.4").status_code == 401
    # 21 failures in all: every address waits now, the holder's too.
    locked = post_login(client, person["phone"], DEFAULT_PASSWORD, address="192.0.2.10")
    assert_problem(locked, 429, "too-many-attempts")
    assert 1 <= int(locked.headers["Retry-After"]) <= 300
    clock.shift(int(locked.headers["Retry-After"]))
    assert post_login(client, person["phone"], DEFAULT_PASSWORD,
                      address="192.0.2.10").status_code == 200


def test_an_address_trying_many_accounts_is_stopped(app, client, clock):
    limit = app.config["LOGIN_IP_FREE_FAILURES"]
    for _ in range(limit):
        fail(client, registration_data()["phone"], 1, address="198.51.100.200")
    person = register(client)
    locked = post_login(client, person["phone"], DEFAULT_PASSWORD, address="198.51.100.200")
    assert_problem(locked, 429, "too-many-attempts")
    assert int(locked.headers["Retry-After"]) == app.config["LOGIN_IP_WINDOW_SECONDS"]
    assert post_login(client, person["phone"], DEFAULT_PASSWORD,
                      address="192.0.2.10").status_code == 200
    clock.shift(app.config["LOGIN_IP_WINDOW_SECONDS"])
    assert post_login(client, person["phone"], DEFAULT_PASSWORD,
                      address="198.51.100.200").status_code == 200


def test_unknown_accounts_are_throttled_like_known_ones(client, clock):
    username = registration_data()["phone"]
    fail(client, username, 6)
    assert_problem(post_login(client, username, WRONG), 429, "too-many-attempts")


def test_redis_never_holds_a_username_or_an_address(client, clock, person):
    fail(client, person["phone"], 6, address="198.51.100.77")
    fail(client, person["id_number"], 1, address="198.51.100.78")
    r = redis_client()
    stored = []
    for key in r.keys("login:*"):
        stored.append(key.decode())
        if r.type(key) == b"hash":
            stored.extend(f"{k.decode()}={v.decode()}" for k, v in r.hgetall(key).items())
        else:
            stored.extend(m.decode() for m in r.zrange(key, 0, -1))
    text = " ".join(stored)
    assert stored and all("{" in key for key in stored if key.startswith("login:"))
    for secret in (person["phone"], person["id_number"], "198.51.100.77", "198.51.100.78"):
        assert secret not in text


def test_no_personal_data_in_the_logs(client, clock, person, caplog):
    caplog.set_level("DEBUG")
    fail(client, person["phone"], 6)
    assert post_login(client, person["phone"], WRONG).status_code == 429
    post_login(client, person["id_number"], DEFAULT_PASSWORD, address="192.0.2.1")
    register(client, id_number=person["id_number"])
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in (person["phone"], person["id_number"], DEFAULT_PASSWORD, WRONG):
        assert secret not in text
