"""The holder's wallet: listing, one credential in full, pending-then-register, presentations."""
from __future__ import annotations

from tests.codes.support import problem_type
from tests.helpers import register, login, auth_headers, resident, registration_data
from tests.wallet.support import (
    disclosed_names,
    issued,
    jwt_payload,
    make_issuer,
    outside_verifier,
    resident_id_claims,
)


def _social_security(client, holder):
    issuer = make_issuer(client, name="市人力资源和社会保障局", types=("social-security-card",))
    return issued(client, issuer, holder, "social-security-card", {
        "name": holder["name"], "id_number": holder["id_number"], "card_number": "A12345678",
        "city": "北京"})


def test_wallet_lists_cards_and_certificates_with_nothing_secret(client):
    holder = resident(client)
    certificate = issued(client, make_issuer(client), holder, valid_until="2036-03-07T00:00:00Z")
    card = _social_security(client, holder)
    response = client.get("/api/v1/me/wallet", headers=holder["headers"])
    assert response.status_code == 200
    wallet = response.json
    assert [c["id"] for c in wallet["cards"]] == [card["id"]]
    assert [c["id"] for c in wallet["certificates"]] == [certificate["id"]]
    item = wallet["certificates"][0]
    assert item["type"] == "resident-id" and item["issuer"] == {"name": "市公安局"}
    assert item["status"] == "valid" and item["valid_until"] == "2036-03-07T00:00:00Z"
    assert item["summary"]["name"] == holder["name"]
    assert item["summary"]["id_number"] == holder["id_number"][:3] + "*" * 12 + holder["id_number"][-3:]
    text = response.get_data(as_text=True)
    assert holder["id_number"] not in text and "~" not in text  # no SD-JWT, no full number


def test_one_credential_in_full_only_for_its_holder(client):
    holder, other = resident(client), resident(client)
    body = issued(client, make_issuer(client), holder)
    full = client.get(f"/api/v1/me/wallet/{body['id']}", headers=holder["headers"])
    assert full.status_code == 200
    assert full.json["credential"] == body["credential"]
    assert full.json["claims"] == resident_id_claims(holder)
    assert full.json["kind"] == "certificate"
    stranger = client.get(f"/api/v1/me/wallet/{body['id']}", headers=other["headers"])
    assert stranger.status_code == 404 and problem_type(stranger) == "not-found"
    assert client.get("/api/v1/me/wallet/nope", headers=holder["headers"]).status_code == 404


def test_issued_before_registering_is_in_the_wallet_on_registering(client):
    data = registration_data()
    body = issued(client, make_issuer(client), {"id_number": data["id_number"], "name": data["name"]})
    registered = register(client, **data)
    assert registered["status"] == 201
    tokens = login(client, data["phone"], data["password"])
    wallet = client.get("/api/v1/me/wallet", headers=auth_headers(tokens["access_token"])).json
    assert [c["id"] for c in wallet["certificates"]] == [body["id"]]


def test_presentation_reveals_only_the_chosen_claims_and_is_bound_to_the_holder_key(client, clock):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    response = client.post(f"/api/v1/me/wallet/{body['id']}/presentations",
                           json={"claims": ["name"], "audience": "https://bank.example"},
                           headers=holder["headers"])
    assert response.status_code == 201, response.json
    shown = response.json
    presentation = shown["presentation"]
    assert shown["qr_text"].startswith("OCV1:")  # the compact code: tests/wallet/test_compact.py
    assert disclosed_names(presentation) == {"name"}
    assert holder["id_number"] not in presentation
    assert shown["expires_at"] == "2026-11-25T09:05:00Z"
    kb = jwt_payload(presentation.rsplit("~", 1)[1])
    assert kb["aud"] == "https://bank.example" and kb["nonce"] == shown["nonce"] and "sd_hash" in kb
    verified = outside_verifier(client, presentation, audience="https://bank.example", nonce=shown["nonce"])
    assert verified["name"] == holder["name"] and "id_number" not in verified and "address" not in verified


def test_presentation_without_audience_still_has_a_key_binding_jwt(client):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    shown = client.post(f"/api/v1/me/wallet/{body['id']}/presentations",
                        json={"claims": ["name", "birthdate"]}, headers=holder["headers"]).json
    kb = jwt_payload(shown["presentation"].rsplit("~", 1)[1])
    assert "aud" not in kb and kb["nonce"] == shown["nonce"]
    assert disclosed_names(shown["presentation"]) == {"name", "birthdate"}
    result = client.post("/api/v1/credentials/verify", json={"credential": shown["presentation"]}).json
    assert result["valid"] is True and result["disclosed"] == {"name": holder["name"], "birthdate": "1990-03-07"}


def test_presentation_refuses_claims_the_credential_lacks_and_other_holders(client):
    holder, other = resident(client), resident(client)
    body = issued(client, make_issuer(client), holder)
    url = f"/api/v1/me/wallet/{body['id']}/presentations"
    lacking = client.post(url, json={"claims": ["portrait"]}, headers=holder["headers"])
    assert lacking.status_code == 422 and "portrait" in str(lacking.json["errors"])
    assert client.post(url, json={"claims": ["name"]}, headers=other["headers"]).status_code == 404
    for bad in ({}, {"claims": []}, {"claims": "name"}, {"claims": [1]}, {"claims": ["name"], "audience": ""}):
        response = client.post(url, json=bad, headers=holder["headers"])
        assert response.status_code == 422, (bad, response.json)


def test_revoked_credential_cannot_be_presented(client):
    holder = resident(client)
    issuer = make_issuer(client)
    body = issued(client, issuer, holder)
    client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke", json={"reason": "lost"},
                headers=issuer["headers"])
    response = client.post(f"/api/v1/me/wallet/{body['id']}/presentations", json={"claims": ["name"]},
                           headers=holder["headers"])
    assert response.status_code == 409 and problem_type(response) == "credential-not-usable"
    listed = client.get("/api/v1/me/wallet", headers=holder["headers"]).json
    assert listed["certificates"][0]["status"] == "revoked"
