"""PUT /me/face: consent, exactly one face, bad uploads, the template at rest, the portrait."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from core.extensions import db
from identity.face_models import FaceTemplate
from tests.codes.support import problem_type
from tests.face.conftest import enrol, upload
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims


def level(client, holder) -> int:
    return client.get("/api/v1/me", headers=holder["headers"]).json["assurance_level"]


def status(client, holder) -> dict:
    return client.get("/api/v1/me/face", headers=holder["headers"]).json


def test_enrolment_keeps_only_the_encrypted_template(client, app, photos, analysed):
    holder = resident(client)
    assert status(client, holder)["enrolled"] is False
    response = enrol(client, holder, photos["obama_1"])
    assert response.status_code == 204, response.json
    assert status(client, holder) == {"enrolled": True, "portrait_matched": False,
                                      "consented_at": status(client, holder)["consented_at"]}
    template = db.session.get(FaceTemplate, holder["profile"]["id"])
    stored = template.template_enc
    plain = np.asarray(analysed["obama_1"].encoding, dtype="<f8").tobytes()
    assert plain not in stored and len(stored) < 1200  # 1024 bytes, a nonce, a tag, a key id
    assert photos["obama_1"][:4096] not in stored
    opened = app.extensions["vault"].decrypt(stored, f"person.face:{template.person_id}".encode())
    assert np.allclose(np.frombuffer(opened, dtype="<f8"), analysed["obama_1"].encoding)
    assert level(client, holder) == 1  # no resident ID: the face raises nothing


@pytest.mark.parametrize("consent", [None, "", "false", "yes please"])
def test_without_consent_nothing_is_enrolled(client, photos, consent):
    holder = resident(client)
    response = enrol(client, holder, photos["obama_1"], consent=consent)
    assert response.status_code == 422 and problem_type(response) == "consent-required"
    assert status(client, holder)["enrolled"] is False


@pytest.mark.parametrize("photo,problem", [("two_people", "several-faces")])
def test_two_faces_are_refused(client, photos, photo, problem):
    holder = resident(client)
    response = enrol(client, holder, photos[photo])
    assert response.status_code == 422 and problem_type(response) == problem


def _png(pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def test_a_picture_without_a_face_and_things_that_are_not_pictures(client, photos):
    holder = resident(client)
    noise = np.random.default_rng(7).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    response = enrol(client, holder, _png(noise))
    assert response.status_code == 422 and problem_type(response) == "no-face"
    for data in (b"plain text", photos["biden_1"][:3000], b"\x89PNG\r\n\x1a\n"):
        response = enrol(client, holder, data)
        assert response.status_code == 422 and problem_type(response) == "bad-image"
    assert status(client, holder)["enrolled"] is False


def test_a_missing_image_is_a_validation_error(client):
    holder = resident(client)
    response = client.put("/api/v1/me/face",
                          data={"consent": "true", "password": holder["password"]},
                          headers=holder["headers"], content_type="multipart/form-data")
    assert response.status_code == 422 and problem_type(response) == "validation-error"
    assert "image" in response.json["errors"]


def test_an_upload_over_ten_megabytes_is_payload_too_large(client):
    holder = resident(client)
    big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    response = client.put("/api/v1/me/face",
                          data={"consent": "true", "password": holder["password"],
                                "image": upload(big)},
                          headers=holder["headers"], content_type="multipart/form-data")
    assert response.status_code == 413 and problem_type(response) == "payload-too-large"


def test_a_chunked_upload_over_ten_megabytes_is_payload_too_large_too(client):
    holder = resident(client)
    boundary = "face-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n'
            f'{holder["password"]}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode()
    body = head + b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    # No Content-Length: the limit applies while the body is read.
    response = client.open("/api/v1/me/face", method="PUT", headers=holder["headers"],
                           environ_overrides={
                               "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True,
                               "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
                               "HTTP_TRANSFER_ENCODING": "chunked"})
    assert response.status_code == 413 and problem_type(response) == "payload-too-large"


def test_an_enrolment_needs_a_resident_token(client, photos):
    response = client.put("/api/v1/me/face", data={"consent": "true", "image": upload(b"x")},
                          content_type="multipart/form-data")
    assert response.status_code == 401


def test_replacing_and_removing_the_face(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["obama_1"]).status_code == 204
    assert enrol(client, holder, photos["biden_1"]).status_code == 204  # nothing to match
    assert client.delete("/api/v1/me/face", headers=holder["headers"]).status_code == 204
    assert status(client, holder)["enrolled"] is False


# The portrait in the resident ID ----------------------------------------------------------


def _with_portrait(client, holder, photo: bytes, **overrides) -> dict:
    issuer = make_issuer(client)
    claims = resident_id_claims(holder, portrait=base64.b64encode(photo).decode(), **overrides)
    return issued(client, issuer, holder, claims=claims)


def test_a_face_matching_the_portrait_raises_the_level_to_3(client, photos):
    holder = resident(client)
    _with_portrait(client, holder, photos["obama_1"])
    response = enrol(client, holder, photos["obama_2"])
    assert response.status_code == 204, response.json
    assert status(client, holder)["portrait_matched"] is True
    assert level(client, holder) == 3


def test_a_face_that_is_not_the_portrait_is_refused_and_nothing_changes(client, photos):
    holder = resident(client)
    assert enrol(client, holder, photos["leslie_1"]).status_code == 204
    _with_portrait(client, holder, photos["obama_1"])
    response = enrol(client, holder, photos["biden_1"])
    assert response.status_code == 422 and problem_type(response) == "face-mismatch"
    assert status(client, holder)["portrait_matched"] is False
    assert level(client, holder) == 2  # the resident ID counts; the refused face adds nothing
    # The old face is still the enrolled one: it signs in, the refused one does not.
    from tests.face.conftest import add_device, face_login

    phone = add_device(client, holder)
    assert face_login(client, holder["phone"], photos["leslie_2"], device=phone).status_code == 200
    refused = face_login(client, holder["phone"], photos["biden_1"], device=phone)
    assert refused.status_code == 401 and problem_type(refused) == "face-mismatch"


def test_replacing_a_matched_face_needs_a_match_again(client, photos):
    holder = resident(client)
    _with_portrait(client, holder, photos["harington_1"])
    assert enrol(client, holder, photos["harington_2"]).status_code == 204
    response = enrol(client, holder, photos["lacamoire_1"])
    assert response.status_code == 422 and problem_type(response) == "face-mismatch"
    assert enrol(client, holder, photos["harington_1"]).status_code == 204
    assert level(client, holder) == 3


def test_a_resident_id_for_another_name_does_not_reach_level_3(client, photos):
    holder = resident(client)
    _with_portrait(client, holder, photos["obama_1"], name="李四")
    response = enrol(client, holder, photos["obama_3"])
    assert response.status_code == 204
    assert status(client, holder)["portrait_matched"] is True
    assert level(client, holder) == 1  # the credential does not match the registration


def test_removing_a_matched_face_leaves_level_2(client, photos):
    holder = resident(client)
    _with_portrait(client, holder, photos["obama_1"])
    assert enrol(client, holder, photos["obama_2"]).status_code == 204
    assert client.delete("/api/v1/me/face", headers=holder["headers"]).status_code == 204
    assert level(client, holder) == 2


def test_two_enrolments_at_once_leave_one_face(committing_app, photos):
    """Both answer 204 (the second waits for the first), and one template remains."""
    import threading

    from sqlalchemy import func, select

    client = committing_app.test_client()
    holder = resident(client)
    answers = []

    def put(photo):
        answers.append(enrol(committing_app.test_client(), holder, photos[photo]).status_code)

    threads = [threading.Thread(target=put, args=(name,)) for name in ("obama_1", "obama_2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [204, 204]
    with committing_app.app_context():
        count = db.session.scalar(select(func.count()).select_from(FaceTemplate)
                                  .where(FaceTemplate.person_id == holder["profile"]["id"]))
    assert count == 1
