"""Face sign-in needs the phone too: a photo alone never signs in.

The phone proves itself with the HMAC-SHA256 of the challenge under the secret of a device the
account registered (``POST /me/devices``). Each way of lacking that proof answers 401
``device-required`` without analysing the photo, spends the challenge and counts towards the
face lockout.
"""
from __future__ import annotations

import pytest

from tests.codes.support import problem_type
from tests.face.conftest import add_device, challenge, device_proof, enrol, face_login, upload
from tests.helpers import resident


@pytest.fixture
def obama(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["obama_1"]).status_code == 204
    holder["device"] = add_device(client, holder)
    return holder


def _no_device(client, holder, photo, text):
    return face_login(client, holder["phone"], photo, text)


def _device_without_proof(client, holder, photo, text):
    return client.post("/api/v1/auth/face/login",
                       data={"username": holder["phone"], "challenge": text,
                             "device_id": holder["device"]["device_id"],
                             "image": upload(photo)},
                       content_type="multipart/form-data")


def _wrong_proof(client, holder, photo, text):
    wrong = device_proof({"secret": "A" * 32}, text)
    return face_login(client, holder["phone"], photo, text, device=holder["device"], proof=wrong)


def _proof_for_another_challenge(client, holder, photo, text):
    other = challenge(client, holder["phone"])
    proof = device_proof(holder["device"], other)
    return face_login(client, holder["phone"], photo, text, device=holder["device"], proof=proof)


def _replayed_proof(client, holder, photo, text):
    # A proof that already signed in once, sent again with the next challenge.
    return face_login(client, holder["phone"], photo, text, device=holder["device"],
                      proof=holder["used_proof"])


def _another_persons_device(client, holder, photo, text):
    return face_login(client, holder["phone"], photo, text, device=holder["strangers_device"])


def _removed_device(client, holder, photo, text):
    return face_login(client, holder["phone"], photo, text, device=holder["removed_device"])


ATTEMPTS = {
    "no-device": _no_device,
    "device-without-proof": _device_without_proof,
    "wrong-proof": _wrong_proof,
    "proof-for-another-challenge": _proof_for_another_challenge,
    "replayed-proof": _replayed_proof,
    "another-persons-device": _another_persons_device,
    "removed-device": _removed_device,
}


@pytest.fixture
def prepared(client, photos, obama):
    """Obama, with what each kind of bad attempt needs."""
    text = challenge(client, obama["phone"])
    obama["used_proof"] = device_proof(obama["device"], text)
    signed_in = face_login(client, obama["phone"], photos["obama_2"], text,
                           device=obama["device"], proof=obama["used_proof"])
    assert signed_in.status_code == 200, signed_in.json
    stranger = resident(client)
    obama["strangers_device"] = add_device(client, stranger)
    removed = add_device(client, obama)
    assert client.delete(f"/api/v1/me/devices/{removed['device_id']}",
                         headers=obama["headers"]).status_code == 204
    obama["removed_device"] = removed
    return obama


@pytest.mark.parametrize("kind", ATTEMPTS)
def test_a_photo_of_the_right_person_without_a_valid_proof_is_refused(client, photos, prepared,
                                                                      monkeypatch, kind):
    from identity import face

    monkeypatch.setattr(face, "encode_face", lambda data: pytest.fail("analysed without a proof"))
    text = challenge(client, prepared["phone"])
    response = ATTEMPTS[kind](client, prepared, photos["obama_3"], text)
    assert response.status_code == 401 and problem_type(response) == "device-required"
    monkeypatch.undo()
    # The attempt spent the challenge: the right proof cannot use it afterwards.
    again = face_login(client, prepared["phone"], photos["obama_3"], text,
                       device=prepared["device"])
    assert again.status_code == 401 and problem_type(again) == "invalid-challenge"


@pytest.mark.parametrize("kind", ATTEMPTS)
def test_refused_proofs_count_towards_the_lockout(client, clock, photos, prepared, kind):
    for _ in range(5):
        text = challenge(client, prepared["phone"])
        response = ATTEMPTS[kind](client, prepared, photos["obama_3"], text)
        assert problem_type(response) == "device-required"
    locked = face_login(client, prepared["phone"], photos["obama_3"], device=prepared["device"])
    assert locked.status_code == 429 and problem_type(locked) == "too-many-attempts"
    clock.shift(int(locked.headers["Retry-After"]))
    ok = face_login(client, prepared["phone"], photos["obama_3"], device=prepared["device"])
    assert ok.status_code == 200, ok.json


def test_with_a_valid_proof_the_face_signs_in(client, photos, obama):
    response = face_login(client, obama["phone"], photos["obama_2"], device=obama["device"])
    assert response.status_code == 200, response.json
    assert {"access_token", "refresh_token"} <= set(response.json)
    # The same photo without the phone's proof does not.
    photo_alone = face_login(client, obama["phone"], photos["obama_2"])
    assert photo_alone.status_code == 401 and "access_token" not in photo_alone.json
    # Any of the account's devices will do.
    second = add_device(client, obama)
    response = face_login(client, obama["id_number"], photos["obama_3"], device=second)
    assert response.status_code == 200, response.json


def test_a_valid_proof_does_not_make_up_for_another_face(client, photos, obama):
    response = face_login(client, obama["phone"], photos["biden_1"], device=obama["device"])
    assert response.status_code == 401 and problem_type(response) == "face-mismatch"


def test_a_proof_is_compared_whole(client, photos, obama):
    text = challenge(client, obama["phone"])
    proof = device_proof(obama["device"], text)
    for variant in (proof + "=", proof[:-1], proof.upper(), "é" * len(proof)):
        response = face_login(client, obama["phone"], photos["obama_2"], text,
                              device=obama["device"], proof=variant)
        assert response.status_code == 401 and problem_type(response) == "device-required"
        text = challenge(client, obama["phone"])
    assert face_login(client, obama["phone"], photos["obama_2"], text,
                      device=obama["device"]).status_code == 200


def test_an_unknown_user_with_a_real_device_is_refused_the_same(client, photos, obama):
    response = face_login(client, "13900000001", photos["obama_2"], device=obama["device"])
    assert response.status_code == 401 and problem_type(response) == "device-required"
