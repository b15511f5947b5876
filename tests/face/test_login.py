"""Face sign-in: challenges, the face, throttling, and what the tokens say."""
from __future__ import annotations

import pytest

from core.store import redis_client
from tests.codes.support import problem_type
from tests.face.conftest import add_device, challenge, enrol, face_login, upload
from tests.helpers import resident
from tests.wallet.support import jwt_payload


@pytest.fixture
def obama(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["obama_1"]).status_code == 204
    holder["device"] = add_device(client, holder)
    return holder


def sign_in(client, holder, photo: bytes, challenge_text: str | None = None, **kwargs):
    """A face sign-in of the holder, with their phone's proof for the challenge."""
    return face_login(client, holder["phone"], photo, challenge_text, device=holder["device"],
                      **kwargs)


def test_the_same_person_signs_in_and_the_token_ranks_like_a_password(client, photos, obama):
    response = sign_in(client, obama, photos["obama_2"])
    assert response.status_code == 200, response.json
    tokens = response.json
    assert {"access_token", "refresh_token", "token_type", "expires_in"} <= set(tokens)
    claims = jwt_payload(tokens["access_token"])
    assert claims["amr"] == ["face"] and claims["acr"] == "1"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    # By ID number too.
    assert face_login(client, obama["id_number"], photos["obama_3"],
                      device=obama["device"]).status_code == 200


@pytest.mark.parametrize("other", ["biden_1", "leslie_2", "lacamoire_1"])
def test_other_people_are_refused(client, photos, obama, other):
    response = sign_in(client, obama, photos[other])
    assert response.status_code == 401 and problem_type(response) == "face-mismatch"


def test_two_faces_or_none_are_refused(client, photos, obama):
    response = sign_in(client, obama, photos["two_people"])
    assert response.status_code == 422 and problem_type(response) == "several-faces"
    response = sign_in(client, obama, b"GIF89a")
    assert response.status_code == 422 and problem_type(response) == "bad-image"


def test_unknown_users_and_users_without_a_proof_get_the_same_answer(client, photos):
    nobody = challenge(client, "13900000001")
    somebody = resident(client)
    known = challenge(client, somebody["phone"])
    assert len(nobody) == len(known)
    for username, text in (("13900000001", nobody), (somebody["phone"], known)):
        response = face_login(client, username, photos["obama_1"], text)
        assert response.status_code == 401 and problem_type(response) == "device-required"


def test_a_user_with_a_phone_but_no_face_gets_a_mismatch(client, photos):
    somebody = resident(client)
    device = add_device(client, somebody)
    response = face_login(client, somebody["phone"], photos["obama_1"], device=device)
    assert response.status_code == 401 and problem_type(response) == "face-mismatch"


def test_the_challenge_answer_is_the_same_for_anyone(client, obama):
    a = client.post("/api/v1/auth/face/challenge", json={"username": obama["phone"]}).json
    b = client.post("/api/v1/auth/face/challenge", json={"username": "nobody at all"}).json
    assert set(a) == set(b) == {"challenge", "expires_in"} and a["expires_in"] == b["expires_in"] == 60
    assert a["challenge"] != b["challenge"] and len(a["challenge"]) >= 40


def test_a_challenge_works_once(client, photos, obama):
    text = challenge(client, obama["phone"])
    assert sign_in(client, obama, photos["obama_2"], text).status_code == 200
    again = sign_in(client, obama, photos["obama_2"], text)
    assert again.status_code == 401 and problem_type(again) == "invalid-challenge"


def test_a_failed_attempt_spends_the_challenge_too(client, photos, obama):
    text = challenge(client, obama["phone"])
    assert sign_in(client, obama, photos["biden_1"], text).status_code == 401
    again = sign_in(client, obama, photos["obama_2"], text)
    assert problem_type(again) == "invalid-challenge"


def test_a_challenge_expires_after_a_minute_by_the_clock(client, clock, photos, obama):
    text = challenge(client, obama["phone"])
    clock.shift(59)
    assert sign_in(client, obama, photos["obama_2"], text).status_code == 200
    text = challenge(client, obama["phone"])
    clock.shift(60)
    late = sign_in(client, obama, photos["obama_2"], text)
    assert late.status_code == 401 and problem_type(late) == "invalid-challenge"


def test_a_challenge_is_bound_to_its_username(client, photos, obama):
    stranger = resident(client)
    text = challenge(client, stranger["phone"])
    response = sign_in(client, obama, photos["obama_2"], text)
    assert response.status_code == 401 and problem_type(response) == "invalid-challenge"
    made_up = sign_in(client, obama, photos["obama_2"], "x" * 43)
    assert problem_type(made_up) == "invalid-challenge"


def test_challenges_are_kept_as_digests(client, obama):
    text = challenge(client, obama["phone"])
    keys = [k.decode() for k in redis_client().scan_iter("face:challenge:*")]
    assert len(keys) == 1 and text not in keys[0]


def test_missing_fields_are_validation_errors(client, photos, obama):
    response = client.post("/api/v1/auth/face/login", data={"username": obama["phone"],
                                                             "image": upload(photos["obama_2"])},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "challenge" in response.json["errors"]


# Throttling -------------------------------------------------------------------------------


def test_five_failures_in_a_row_lock_the_account_with_a_growing_delay(client, clock, photos, obama):
    for _ in range(5):
        assert sign_in(client, obama, photos["biden_1"]).status_code == 401
    locked = sign_in(client, obama, photos["obama_2"])
    assert locked.status_code == 429 and problem_type(locked) == "too-many-attempts"
    assert locked.headers["Retry-After"] == "1"
    # From another address too: the lock is the account's.
    assert sign_in(client, obama, photos["obama_2"], address="198.51.100.9").status_code == 429
    clock.shift(1)
    assert sign_in(client, obama, photos["biden_1"]).status_code == 401
    assert sign_in(client, obama, photos["obama_2"]).headers["Retry-After"] == "2"
    clock.shift(2)
    assert sign_in(client, obama, photos["biden_1"]).status_code == 401
    assert sign_in(client, obama, photos["obama_2"]).headers["Retry-After"] == "4"
    clock.shift(4)
    assert sign_in(client, obama, photos["obama_2"]).status_code == 200


def test_while_locked_nothing_is_analysed_nor_the_challenge_spent(client, clock, photos, obama,
                                                                  monkeypatch):
    for _ in range(5):
        sign_in(client, obama, photos["biden_1"])
    from identity import face

    monkeypatch.setattr(face, "encode_face", lambda data: pytest.fail("analysed while locked"))
    text = challenge(client, obama["phone"])
    assert sign_in(client, obama, photos["obama_2"], text).status_code == 429
    monkeypatch.undo()
    clock.shift(1)
    assert sign_in(client, obama, photos["obama_2"], text).status_code == 200


def test_a_success_clears_the_count(client, clock, photos, obama):
    for _ in range(4):
        sign_in(client, obama, photos["biden_1"])
    assert sign_in(client, obama, photos["obama_2"]).status_code == 200
    for _ in range(4):
        sign_in(client, obama, photos["biden_1"])
    assert sign_in(client, obama, photos["obama_3"]).status_code == 200


def test_face_failures_do_not_lock_the_password(client, clock, photos, obama):
    from tests.helpers import login

    for _ in range(6):
        sign_in(client, obama, photos["biden_1"])
    assert "access_token" in login(client, obama["phone"], obama["password"])


def test_a_suspended_person_cannot_sign_in_with_a_face(client, photos, obama):
    from core.extensions import db
    from identity.models import Person

    db.session.get(Person, obama["profile"]["id"]).status = "suspended"
    db.session.commit()
    response = sign_in(client, obama, photos["obama_2"])
    assert response.status_code == 403 and problem_type(response) == "subject-suspended"


def test_one_address_gets_thirty_challenges_a_minute(client, clock):
    for i in range(30):
        assert client.post("/api/v1/auth/face/challenge",
                           json={"username": f"1390000{i:04d}"}).status_code == 200
    refused = client.post("/api/v1/auth/face/challenge", json={"username": "13900009999"})
    assert refused.status_code == 429 and problem_type(refused) == "too-many-attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.post("/api/v1/auth/face/challenge", json={"username": "13900009999"},
                        environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert other.status_code == 200
    clock.shift(60)
    assert client.post("/api/v1/auth/face/challenge",
                       json={"username": "13900009999"}).status_code == 200


def test_overlong_fields_are_validation_errors(client, photos):
    response = client.post("/api/v1/auth/face/challenge", json={"username": "1" * 65})
    assert response.status_code == 422
    response = client.post("/api/v1/auth/face/login",
                           data={"username": "13900000001", "challenge": "c" * 129,
                                 "image": upload(photos["obama_2"])},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "challenge" in response.json["errors"]
