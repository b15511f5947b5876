"""Assurance levels as the phone app sees them in GET /me, driven by the wallet."""
from datetime import timedelta

from tests.helpers import auth_headers, login, registration_data, resident
from tests.wallet.support import issued, make_issuer, resident_id_claims


def level(client, holder) -> int:
    response = client.get("/api/v1/me", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json["assurance_level"]


def test_a_matching_resident_id_raises_the_level_to_two_and_revoking_it_lowers_it(client, clock):
    holder = resident(client)
    assert level(client, holder) == 1
    police = make_issuer(client)
    credential = issued(client, police, holder)
    assert level(client, holder) == 2

    response = client.post(f"/api/v1/issuer/credentials/{credential['id']}/revoke",
                           json={"reason": "reported lost"}, headers=police["headers"])
    assert response.status_code == 200, response.json
    assert level(client, holder) == 1


def test_a_resident_id_that_names_someone_else_does_not_count(client, clock):
    holder = resident(client, name="李小梅")
    police = make_issuer(client)
    issued(client, police, holder, claims=resident_id_claims(holder, name="李晓梅"))
    assert level(client, holder) == 1


def test_a_resident_id_issued_before_registering_counts_at_registration(client, clock):
    data = registration_data()
    issued(client, make_issuer(client), data)
    response = client.post("/api/v1/residents", json=data)
    assert response.status_code == 201, response.json
    assert response.json["assurance_level"] == 2


def test_an_expired_resident_id_no_longer_counts(client, clock):
    holder = resident(client)
    issued(client, make_issuer(client), holder,
           claims=resident_id_claims(holder, valid_until="2027-01-01"),
           valid_until="2027-01-01T00:00:00Z")
    assert level(client, holder) == 2
    clock.shift(timedelta(days=60))
    # the access token has expired by then too: sign in again, as the app would
    tokens = login(client, holder["phone"], holder["password"])
    assert level(client, {"headers": auth_headers(tokens["access_token"])}) == 1
