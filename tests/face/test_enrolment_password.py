"""PUT /me/face asks for the password again: a stolen access token must not enrol the thief's
face and keep the account. Wrong passwords count against the password sign-in's lockout."""
from __future__ import annotations

import pytest

from tests.codes.support import problem_type
from tests.face.conftest import add_device, enrol, face_login
from tests.helpers import login, resident

WRONG = "not the password at all 7"


def status(client, holder) -> dict:
    return client.get("/api/v1/me/face", headers=holder["headers"]).json


@pytest.fixture
def obama(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["obama_1"]).status_code == 204
    holder["device"] = add_device(client, holder)
    return holder


@pytest.mark.parametrize("password", [None, "", WRONG, "VIOLET KETTLE RUNS UPHILL 42"])
@pytest.mark.parametrize("consent", ["true", None])
def test_without_the_right_password_a_first_face_is_not_enrolled(client, photos, monkeypatch,
                                                                  password, consent):
    from identity import face

    holder = resident(client)
    monkeypatch.setattr(face, "encode_face", lambda data: pytest.fail("analysed"))
    response = enrol(client, holder, photos["biden_1"], consent=consent, password=password)
    assert response.status_code == 401 and problem_type(response) == "reauthentication-required"
    assert response.content_type == "application/problem+json"
    assert status(client, holder)["enrolled"] is False


@pytest.mark.parametrize("password", [None, WRONG])
def test_a_stolen_token_cannot_replace_the_face(client, photos, obama, password):
    before = status(client, obama)
    response = enrol(client, obama, photos["biden_1"], password=password)
    assert response.status_code == 401 and problem_type(response) == "reauthentication-required"
    assert status(client, obama) == before
    # The thief's face does not sign in; the holder's still does.
    thief = face_login(client, obama["phone"], photos["biden_2"], device=obama["device"])
    assert thief.status_code == 401 and problem_type(thief) == "face-mismatch"
    holder = face_login(client, obama["phone"], photos["obama_2"], device=obama["device"])
    assert holder.status_code == 200, holder.json


def test_the_right_password_enrols(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["leslie_1"], password=None).status_code == 401
    response = enrol(client, holder, photos["leslie_1"], password=holder["password"])
    assert response.status_code == 204, response.json
    assert status(client, holder)["enrolled"] is True


def test_wrong_passwords_here_lock_the_password_sign_in(client, clock, photos, obama):
    for _ in range(6):  # five free failures, the sixth locks for a second
        assert enrol(client, obama, photos["biden_1"], password=WRONG).status_code == 401
    refused = client.post("/api/v1/auth/login",
                          json={"username": obama["phone"], "password": obama["password"]})
    assert refused.status_code == 429 and problem_type(refused) == "too-many-attempts"
    locked = enrol(client, obama, photos["obama_2"])
    assert locked.status_code == 429 and problem_type(locked) == "too-many-attempts"
    clock.shift(int(locked.headers["Retry-After"]))
    assert enrol(client, obama, photos["obama_2"]).status_code == 204


def test_password_sign_in_failures_lock_the_enrolment_too(client, clock, photos, obama):
    for _ in range(6):
        assert login(client, obama["phone"], WRONG)["type"].endswith("/invalid-credentials")
    locked = enrol(client, obama, photos["obama_2"])
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


def test_while_locked_the_password_is_not_checked(client, clock, photos, obama, monkeypatch):
    from identity import passwords

    for _ in range(6):
        enrol(client, obama, photos["biden_1"], password=WRONG)
    calls = []
    monkeypatch.setattr(passwords, "verify_password", lambda *a: calls.append(a) or True)
    assert enrol(client, obama, photos["obama_2"]).status_code == 429
    assert calls == []


def test_a_missing_password_is_not_counted_as_a_guess(client, photos, obama):
    for _ in range(8):
        response = enrol(client, obama, photos["biden_1"], password=None)
        assert problem_type(response) == "reauthentication-required"
    assert enrol(client, obama, photos["obama_2"]).status_code == 204
