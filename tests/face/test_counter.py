"""The counter check (刷脸办): a service point compares a face with the scanned holder's."""
from __future__ import annotations

import pytest

from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.face.conftest import enrol, upload
from tests.helpers import resident


@pytest.fixture
def counter(client):
    return make_service_point(client)


@pytest.fixture
def holder(client, photos):
    person = resident(client)
    assert enrol(client, person, photos["lacamoire_1"]).status_code == 204
    return person


def scanned(client, counter, person) -> str:
    response = scan(client, counter, my_code(client, person)["code"])
    assert response.status_code == 201, response.json
    return response.json["scan_id"]


def check(client, counter, scan_id, data: bytes):
    return client.post(f"/api/v1/scans/{scan_id}/face", data={"image": upload(data)},
                       headers=counter["headers"], content_type="multipart/form-data")


def test_the_holder_matches_and_someone_else_does_not(client, photos, counter, holder):
    scan_id = scanned(client, counter, holder)
    response = check(client, counter, scan_id, photos["lacamoire_2"])
    assert response.status_code == 200 and response.json == {"match": True}
    response = check(client, counter, scan_id, photos["obama_1"])
    assert response.status_code == 200 and response.json == {"match": False}
    # Both checks are in the holder's record of scans.
    mine = client.get("/api/v1/me/scans", headers=holder["headers"]).json
    shared = next(s for s in mine if s["scan_id"] == scan_id)["shared"]
    assert [(e["kind"], e["match"]) for e in shared] == [("face-check", True), ("face-check", False)]
    assert all(e["at"].endswith("Z") for e in shared)


def test_only_the_service_point_that_scanned_may_check(client, photos, counter, holder):
    scan_id = scanned(client, counter, holder)
    other = make_service_point(client, name="Another Hall")
    assert check(client, other, scan_id, photos["lacamoire_2"]).status_code == 404
    assert check(client, counter, "no-such-scan", photos["lacamoire_2"]).status_code == 404
    response = client.post(f"/api/v1/scans/{scan_id}/face", data={"image": upload(b"x")},
                           headers=holder["headers"], content_type="multipart/form-data")
    assert response.status_code == 403  # a resident's token is not a scanner's


def test_only_while_the_scan_lives(client, clock, photos, counter, holder):
    scan_id = scanned(client, counter, holder)
    clock.shift(601)
    from tests.codes.support import scanner_token_again

    counter = scanner_token_again(client, counter)
    assert check(client, counter, scan_id, photos["lacamoire_2"]).status_code == 404


def test_a_holder_without_a_face_is_a_conflict(client, photos, counter):
    person = resident(client)
    scan_id = scanned(client, counter, person)
    response = check(client, counter, scan_id, photos["lacamoire_2"])
    assert response.status_code == 409 and problem_type(response) == "no-face-enrolled"


def test_the_photo_must_show_one_face(client, photos, counter, holder):
    scan_id = scanned(client, counter, holder)
    response = check(client, counter, scan_id, photos["two_people"])
    assert response.status_code == 422 and problem_type(response) == "several-faces"
    response = check(client, counter, scan_id, b"not an image")
    assert response.status_code == 422 and problem_type(response) == "bad-image"


def test_a_scan_allows_a_few_checks_only(client, photos, counter, holder):
    scan_id = scanned(client, counter, holder)
    for _ in range(5):
        assert check(client, counter, scan_id, photos["biden_2"]).json == {"match": False}
    response = check(client, counter, scan_id, photos["lacamoire_2"])
    assert response.status_code == 429 and problem_type(response) == "too-many-attempts"
