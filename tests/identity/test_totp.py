"""Two-step sign-in: TOTP set-up, confirmation, sign-in, and each one-time password once."""
import threading
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
from flask_jwt_extended import decode_token

from core.extensions import db
from identity import totp
from identity.models import Person
from tests.helpers import resident

PROBLEM = "application/problem+json"


def assert_problem(response, status, short_type):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/" + short_type)


def start(client, r):
    return client.post("/api/v1/auth/totp", headers=r["headers"])


def confirm(client, r, otp):
    return client.post("/api/v1/auth/totp/confirm", json={"otp": otp}, headers=r["headers"])


def post_login(client, r, otp=None):
    body = {"username": r["phone"], "password": r["password"]}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/login", json=body)


def _now():
    from core import clock
    return clock.timestamp()


@pytest.fixture
def enrolled(client, clock):
    """A resident with TOTP on; the confirming step is spent, so time moves two steps on."""
    r = resident(client)
    secret = start(client, r).json["secret"]
    assert confirm(client, r, pyotp.TOTP(secret).now()).status_code == 204
    clock.shift(60)
    return {**r, "secret": secret}


def test_set_up_answers_a_secret_and_an_otpauth_uri(client, clock):
    r = resident(client)
    response = start(client, r)
    assert response.status_code == 200
    secret, uri = response.json["secret"], response.json["otpauth_uri"]
    assert len(secret) >= 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert unquote(parsed.path) == "/OneCode:" + r["profile"]["phone"]  # the masked phone
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == ["OneCode"]
    assert r["id_number"] not in unquote(uri) and r["phone"] not in unquote(uri)
    # Stored encrypted, and not on until confirmed.
    person = db.session.get(Person, r["profile"]["id"])
    assert secret.encode() not in person.totp_secret_enc
    assert client.get("/api/v1/me", headers=r["headers"]).json["totp_enabled"] is False
    assert post_login(client, r).status_code == 200


def test_confirming_turns_it_on(client, clock):
    r = resident(client)
    secret = start(client, r).json["secret"]
    assert_problem(confirm(client, r, "000000" if pyotp.TOTP(secret).now() != "000000"
                           else "111111"), 422, "invalid-otp")
    response = confirm(client, r, pyotp.TOTP(secret).now())
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/v1/me", headers=r["headers"]).json["totp_enabled"] is True


def test_starting_again_replaces_a_pending_secret(client, clock):
    r = resident(client)
    old = start(client, r).json["secret"]
    new = start(client, r).json["secret"]
    assert old != new
    assert_problem(confirm(client, r, pyotp.TOTP(old).now()), 422, "invalid-otp")
    assert confirm(client, r, pyotp.TOTP(new).now()).status_code == 204


def test_confirming_without_starting_is_refused(client):
    r = resident(client)
    assert_problem(confirm(client, r, "123456"), 409, "totp-not-started")


def test_once_on_it_cannot_be_started_or_confirmed_again(client, enrolled):
    assert_problem(start(client, enrolled), 409, "totp-already-enabled")
    assert_problem(confirm(client, enrolled, pyotp.TOTP(enrolled["secret"]).now()),
                   409, "totp-already-enabled")


def test_set_up_needs_an_access_token(client):
    assert_problem(client.post("/api/v1/auth/totp"), 401, "unauthorized")
    assert_problem(client.post("/api/v1/auth/totp/confirm", json={"otp": "123456"}),
                   401, "unauthorized")


@pytest.mark.parametrize("otp", [None, 123456, "", "1" * 17, ["123456"]])
def test_bad_confirmation_input_is_a_4xx_problem(client, otp):
    r = resident(client)
    start(client, r)
    response = client.post("/api/v1/auth/totp/confirm", json={"otp": otp}, headers=r["headers"])
    assert response.status_code == 422 and response.mimetype == PROBLEM


def test_sign_in_asks_for_the_one_time_password_after_the_password(client, enrolled):
    assert_problem(post_login(client, enrolled), 401, "otp-required")
    wrong_password = client.post("/api/v1/auth/login", json={
        "username": enrolled["phone"], "password": "not the password at all"})
    assert_problem(wrong_password, 401, "invalid-credentials")


def test_sign_in_with_the_one_time_password_is_level_2(client, enrolled):
    response = post_login(client, enrolled, pyotp.TOTP(enrolled["secret"]).now())
    assert response.status_code == 200
    claims = decode_token(response.json["access_token"])
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"]


def test_a_wrong_one_time_password_is_invalid_credentials(client, enrolled):
    right = pyotp.TOTP(enrolled["secret"]).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = post_login(client, enrolled, wrong)
    assert_problem(response, 401, "invalid-credentials")
    plain_wrong = client.post("/api/v1/auth/login", json={
        "username": enrolled["phone"], "password": "not the password at all"})
    assert response.json == plain_wrong.json
    for malformed in ("12345", "abcdef", "１２３４５６", "1234567"):
        assert_problem(post_login(client, enrolled, malformed), 401, "invalid-credentials")


def test_each_one_time_password_works_once(client, enrolled):
    otp = pyotp.TOTP(enrolled["secret"]).now()
    assert post_login(client, enrolled, otp).status_code == 200
    assert_problem(post_login(client, enrolled, otp), 401, "invalid-credentials")


def test_the_confirming_password_cannot_sign_in(client, clock):
    r = resident(client)
    secret = start(client, r).json["secret"]
    otp = pyotp.TOTP(secret).now()
    assert confirm(client, r, otp).status_code == 204
    assert_problem(post_login(client, r, otp), 401, "invalid-credentials")


def test_one_step_either_side_is_accepted_but_not_two(client, enrolled, clock):
    generator = pyotp.TOTP(enrolled["secret"])
    previous = generator.at(_now() - 30)
    assert post_login(client, enrolled, previous).status_code == 200
    assert_problem(post_login(client, enrolled, generator.at(_now() - 60)),
                   401, "invalid-credentials")
    assert post_login(client, enrolled, generator.at(_now() + 30)).status_code == 200
    assert_problem(post_login(client, enrolled, generator.at(_now() + 60)),
                   401, "invalid-credentials")


def test_after_a_later_step_an_earlier_one_is_refused(client, enrolled):
    generator = pyotp.TOTP(enrolled["secret"])
    assert post_login(client, enrolled, generator.at(_now() + 30)).status_code == 200
    assert_problem(post_login(client, enrolled, generator.now()), 401, "invalid-credentials")


def test_asking_for_the_one_time_password_is_not_a_failure(client, enrolled):
    for _ in range(10):
        assert_problem(post_login(client, enrolled), 401, "otp-required")
    assert post_login(client, enrolled, pyotp.TOTP(enrolled["secret"]).now()).status_code == 200


def test_guessing_one_time_passwords_is_throttled(client, enrolled):
    right = pyotp.TOTP(enrolled["secret"]).now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(6):
        assert_problem(post_login(client, enrolled, wrong), 401, "invalid-credentials")
    assert_problem(post_login(client, enrolled, right), 429, "too-many-attempts")


def test_spend_step_moves_only_forward(client, app):
    r = resident(client)
    person = db.session.get(Person, r["profile"]["id"])
    assert totp.spend_step(person, 1000)
    assert not totp.spend_step(person, 1000)
    assert not totp.spend_step(person, 999)
    assert totp.spend_step(person, 1001)
    assert person.totp_last_step == 1001


def test_matching_step_checks_shape_and_window():
    secret = pyotp.random_base32()
    generator = pyotp.TOTP(secret)
    at = 1_800_000_015.0
    step = int(at // 30)
    assert totp.matching_step(secret, generator.generate_otp(step), at) == step
    assert totp.matching_step(secret, generator.generate_otp(step - 1), at) == step - 1
    assert totp.matching_step(secret, generator.generate_otp(step + 1), at) == step + 1
    assert totp.matching_step(secret, generator.generate_otp(step + 2), at) is None
    for bad in ("", "12345", "1234567", "abcdef", None, 123456):
        assert totp.matching_step(secret, bad, at) is None


def test_two_sign_ins_racing_with_one_password_cannot_both_win(committing_app, clock):
    client = committing_app.test_client()
    r = resident(client)
    secret = start(client, r).json["secret"]
    assert confirm(client, r, pyotp.TOTP(secret).now()).status_code == 204
    clock.shift(30)
    otp = pyotp.TOTP(secret).now()
    barrier = threading.Barrier(2)
    statuses = []

    def attempt():
        with committing_app.test_client() as c:
            barrier.wait()
            statuses.append(post_login(c, r, otp).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 401]
