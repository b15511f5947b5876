"""Registering an enterprise by its USCC; verification and un-verification by licence."""
from __future__ import annotations

import pytest

from tests.codes.support import problem_type
from tests.enterprises.support import (
    issue_licence,
    market_regulator,
    new_uscc,
    register_enterprise,
    revoke,
)
from tests.helpers import resident


def _get(client, person, enterprise_id):
    return client.get(f"/api/v1/enterprises/{enterprise_id}", headers=person["headers"])


def test_registration_answers_the_enterprise_unverified(client):
    founder = resident(client)
    uscc = new_uscc()
    response = register_enterprise(client, founder, uscc)
    assert response.status_code == 201, response.json
    body = response.json
    assert {k: body[k] for k in ("name", "uscc", "verified")} == {
        "name": "北京一码科技有限公司", "uscc": uscc, "verified": False}
    assert len(body["id"]) >= 16 and uscc not in body["id"]
    assert body["role"] == "admin" and body["legal_representative"] is False
    listed = client.get("/api/v1/me/enterprises", headers=founder["headers"]).json
    assert [e["id"] for e in listed] == [body["id"]]


def test_the_same_uscc_twice_is_409_in_any_spelling(client):
    uscc = new_uscc()
    assert register_enterprise(client, resident(client), uscc).status_code == 201
    full_width = uscc.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    again = register_enterprise(client, resident(client), f" {full_width} ")
    assert again.status_code == 409 and problem_type(again) == "already-registered"


@pytest.mark.parametrize("uscc", ["91350100M000100Y44", "91350100M000100X43", "9135010OM000100Y43",
                                  "91350100M000100Y4", "", "x" * 64])
def test_a_bad_uscc_is_a_validation_error(client, uscc):
    response = register_enterprise(client, resident(client), uscc)
    assert response.status_code == 422 and problem_type(response) == "validation-error"
    assert "uscc" in response.json["errors"]


@pytest.mark.parametrize("body", [
    {}, {"name": "x"}, {"uscc": "91350100M000100Y43"}, {"name": None, "uscc": "91350100M000100Y43"},
    {"name": ["a"], "uscc": 91350100}, {"name": "\x00", "uscc": "91350100M000100Y43"},
    {"name": "a\u200bb", "uscc": "91350100M000100Y43"}, {"name": "x" * 300, "uscc": "91350100M000100Y43"},
    {"name": " ", "uscc": "91350100M000100Y43"}, [], "text",
])
def test_bad_bodies_are_4xx(client, body):
    response = client.post("/api/v1/enterprises", json=body, headers=resident(client)["headers"])
    assert 400 <= response.status_code < 500, response.json


def test_registration_needs_a_resident_token(client):
    assert client.post("/api/v1/enterprises", json={"name": "x", "uscc": new_uscc()}).status_code == 401


def test_a_licence_already_in_the_wallet_verifies_at_once(client):
    founder = resident(client)
    uscc = new_uscc()
    issue_licence(client, market_regulator(client), uscc, founder)
    response = register_enterprise(client, founder, uscc)
    assert response.status_code == 201 and response.json["verified"] is True
    assert response.json["legal_representative"] is True
    assert set(response.json["scopes"]) == {"show-code", "wallet:read", "consent", "manage-members", "seal"}


def test_a_licence_issued_later_verifies_and_its_revocation_unverifies(client):
    founder = resident(client)
    uscc = new_uscc()
    enterprise_id = register_enterprise(client, founder, uscc).json["id"]
    assert _get(client, founder, enterprise_id).json["verified"] is False
    code = client.get(f"/api/v1/enterprises/{enterprise_id}/code", headers=founder["headers"])
    assert code.status_code == 403 and problem_type(code) == "enterprise-not-verified"

    regulator = market_regulator(client)
    licence = issue_licence(client, regulator, uscc, founder)
    assert _get(client, founder, enterprise_id).json["verified"] is True
    assert client.get(f"/api/v1/enterprises/{enterprise_id}/code",
                      headers=founder["headers"]).status_code == 200

    revoke(client, regulator, licence["id"])
    assert _get(client, founder, enterprise_id).json["verified"] is False
    code = client.get(f"/api/v1/enterprises/{enterprise_id}/code", headers=founder["headers"])
    assert code.status_code == 403 and problem_type(code) == "enterprise-not-verified"


def test_a_second_valid_licence_keeps_it_verified_when_one_is_revoked(client):
    founder = resident(client)
    uscc = new_uscc()
    regulator = market_regulator(client)
    first = issue_licence(client, regulator, uscc, founder)
    issue_licence(client, regulator, uscc, founder)
    enterprise_id = register_enterprise(client, founder, uscc).json["id"]
    revoke(client, regulator, first["id"])
    assert _get(client, founder, enterprise_id).json["verified"] is True


def test_a_licence_naming_someone_else_does_not_verify(client):
    founder, other = resident(client), resident(client)
    uscc = new_uscc()
    issue_licence(client, market_regulator(client), uscc, other)
    response = register_enterprise(client, founder, uscc)
    assert response.json["verified"] is False


def test_a_licence_for_another_uscc_does_not_verify(client):
    founder = resident(client)
    uscc = new_uscc()
    enterprise_id = register_enterprise(client, founder, uscc).json["id"]
    issue_licence(client, market_regulator(client), new_uscc(), founder)
    assert _get(client, founder, enterprise_id).json["verified"] is False


def test_an_expired_licence_no_longer_verifies(client, clock):
    founder = resident(client)
    uscc = new_uscc()
    issue_licence(client, market_regulator(client), uscc, founder, valid_until="2026-11-25T09:10:00Z")
    enterprise_id = register_enterprise(client, founder, uscc).json["id"]
    assert _get(client, founder, enterprise_id).json["verified"] is True
    clock.shift(11 * 60)
    assert _get(client, founder, enterprise_id).json["verified"] is False
    wallet = client.get(f"/api/v1/enterprises/{enterprise_id}/wallet", headers=founder["headers"])
    assert wallet.status_code == 403 and problem_type(wallet) == "enterprise-not-verified"


def test_the_licensed_legal_representative_claims_a_uscc_someone_else_registered(client):
    squatter, owner = resident(client), resident(client)
    uscc = new_uscc()
    enterprise_id = register_enterprise(client, squatter, uscc).json["id"]
    # Without a licence naming them, the second registration is refused.
    assert register_enterprise(client, owner, uscc).status_code == 409
    issue_licence(client, market_regulator(client), uscc, owner)
    claimed = register_enterprise(client, owner, uscc)
    assert claimed.status_code == 201, claimed.json
    assert claimed.json["id"] == enterprise_id and claimed.json["verified"] is True
    assert _get(client, squatter, enterprise_id).status_code == 404
    # Verified now: nobody else takes it, not even with a licence of their own.
    other = resident(client)
    issue_licence(client, market_regulator(client), uscc, other)
    assert register_enterprise(client, other, uscc).status_code == 409


def test_a_licence_that_comes_into_force_later_verifies_then(client, clock):
    founder = resident(client)
    uscc = new_uscc()
    issue_licence(client, market_regulator(client), uscc, founder, valid_from="2026-11-25T09:10:00Z")
    enterprise_id = register_enterprise(client, founder, uscc).json["id"]
    assert _get(client, founder, enterprise_id).json["verified"] is False
    clock.shift(10 * 60)
    assert _get(client, founder, enterprise_id).json["verified"] is True
    assert client.get(f"/api/v1/enterprises/{enterprise_id}/code", headers=founder["headers"]).status_code == 200
