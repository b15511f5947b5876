"""Zero-material handling: a service point asks, the holder answers, the asker alone fetches."""
from __future__ import annotations

from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.helpers import resident
from tests.wallet.support import disclosed_names, issued, make_issuer, outside_verifier, resident_id_claims


def _scanned(client, holder, scanner) -> str:
    response = scan(client, scanner, my_code(client, holder)["code"])
    assert response.status_code == 201, response.json
    return response.json["scan_id"]


def _ask(client, scanner, scan_id, types=("resident-id",)):
    return client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": list(types)},
                       headers=scanner["headers"])


def _pending(client, holder) -> list:
    response = client.get("/api/v1/me/consents?status=pending", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def _state(client, scanner, scan_id, request_id):
    return client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}", headers=scanner["headers"])


def _setup(client):
    holder = resident(client)
    credential = issued(client, make_issuer(client), holder)
    hall = make_service_point(client, "市民服务中心")
    scan_id = _scanned(client, holder, hall)
    return holder, credential, hall, scan_id


def test_the_holder_sees_who_asks_for_what_and_why_then_the_asker_fetches(client, clock):
    holder, credential, hall, scan_id = _setup(client)
    asked = _ask(client, hall, scan_id, ["resident-id", "driver-licence"])
    assert asked.status_code == 201, asked.json
    request_id = asked.json["request_id"]
    assert asked.json["status"] == "pending" and asked.json["missing"] == ["driver-licence"]

    [consent] = _pending(client, holder)
    assert consent["request_id"] == request_id and consent["id"] != request_id
    assert consent["service_point"] == {"name": "市民服务中心"}
    assert consent["purpose"] == "identity-check"
    assert consent["types"] == ["resident-id", "driver-licence"]
    assert consent["expires_at"] == "2026-11-25T09:05:00Z"
    assert _state(client, hall, scan_id, request_id).json == {"status": "pending"}

    approve = client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=holder["headers"])
    assert approve.status_code == 204
    assert _pending(client, holder) == []
    state = _state(client, hall, scan_id, request_id)
    assert state.status_code == 200 and state.json["status"] == "approved"
    [material] = state.json["materials"]
    assert material["type"] == "resident-id"
    assert disclosed_names(material["credential"]) == set(resident_id_claims(holder))
    # Bound to this service point: aud its client id, nonce the request id.
    verified = outside_verifier(client, material["credential"], audience=hall["client_id"], nonce=request_id)
    assert verified["id_number"] == holder["id_number"]

    scans = client.get("/api/v1/me/scans", headers=holder["headers"]).json
    shared = next(s for s in scans if s["scan_id"] == scan_id)["shared"]
    assert [(s["type"], s["issuer"]) for s in shared] == [("resident-id", "市公安局")]
    _state(client, hall, scan_id, request_id)  # fetching again records nothing new
    scans = client.get("/api/v1/me/scans", headers=holder["headers"]).json
    assert len(next(s for s in scans if s["scan_id"] == scan_id)["shared"]) == 1

    clock.shift(301)
    assert _state(client, hall, scan_id, request_id).json == {"status": "expired"}


def test_another_service_point_or_resident_gets_nothing(client):
    holder, credential, hall, scan_id = _setup(client)
    request_id = _ask(client, hall, scan_id).json["request_id"]
    consent = _pending(client, holder)[0]
    stranger = resident(client)
    assert _pending(client, stranger) == []
    response = client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=stranger["headers"])
    assert response.status_code == 404 and problem_type(response) == "not-found"
    assert client.post(f"/api/v1/me/consents/{request_id}/approve", headers=holder["headers"]).status_code == 404

    client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=holder["headers"])
    kiosk = make_service_point(client, "某银行网点")
    assert _state(client, kiosk, scan_id, request_id).status_code == 404
    assert _ask(client, kiosk, scan_id).status_code == 404
    assert client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}",
                      headers=holder["headers"]).status_code == 403
    assert _state(client, hall, "other-scan", request_id).status_code == 404


def test_denied_shares_nothing_and_the_first_answer_wins(client):
    holder, credential, hall, scan_id = _setup(client)
    request_id = _ask(client, hall, scan_id).json["request_id"]
    consent_id = _pending(client, holder)[0]["id"]
    assert client.post(f"/api/v1/me/consents/{consent_id}/deny", headers=holder["headers"]).status_code == 204
    late = client.post(f"/api/v1/me/consents/{consent_id}/approve", headers=holder["headers"])
    assert late.status_code == 409 and problem_type(late) == "already-answered"
    assert _state(client, hall, scan_id, request_id).json == {"status": "denied"}


def test_an_expired_request_cannot_be_approved(client, clock):
    holder, credential, hall, scan_id = _setup(client)
    request_id = _ask(client, hall, scan_id).json["request_id"]
    consent_id = _pending(client, holder)[0]["id"]
    clock.shift(300)
    assert _pending(client, holder) == []
    assert client.post(f"/api/v1/me/consents/{consent_id}/approve", headers=holder["headers"]).status_code == 404
    assert _state(client, hall, scan_id, request_id).json == {"status": "expired"}


def test_revoked_or_expired_credentials_are_never_shared(client, clock):
    holder = resident(client)
    issuer = make_issuer(client)
    revoked = issued(client, issuer, holder)
    social = make_issuer(client, name="市人力资源和社会保障局", types=("social-security-card",))
    issued(client, social, holder, "social-security-card", {
        "name": holder["name"], "id_number": holder["id_number"], "card_number": "A1", "city": "北京"},
        valid_until="2026-11-25T09:02:00Z")
    hall = make_service_point(client)
    scan_id = _scanned(client, holder, hall)
    asked = _ask(client, hall, scan_id, ["resident-id", "social-security-card"])
    assert asked.json["missing"] == []
    client.post(f"/api/v1/me/consents/{_pending(client, holder)[0]['id']}/approve", headers=holder["headers"])
    client.post(f"/api/v1/issuer/credentials/{revoked['id']}/revoke", json={"reason": "lost"},
                headers=issuer["headers"])
    clock.shift(121)
    state = _state(client, hall, scan_id, asked.json["request_id"]).json
    assert state["status"] == "approved" and state["materials"] == []
    assert state["missing"] == ["resident-id", "social-security-card"]


def test_bad_material_requests_are_4xx(client):
    holder, credential, hall, scan_id = _setup(client)
    for body in ({}, {"types": []}, {"types": "resident-id"}, {"types": ["resident-id"], "service_item": "x"},
                 {"types": [1]}):
        response = client.post(f"/api/v1/scans/{scan_id}/requests", json=body, headers=hall["headers"])
        assert response.status_code == 422, (body, response.json)
    unknown = _ask(client, hall, scan_id, ["no-such-type"])
    assert unknown.status_code == 422 and problem_type(unknown) == "unknown-type"
    item = client.post(f"/api/v1/scans/{scan_id}/requests", json={"service_item": "birth-registration"},
                       headers=hall["headers"])
    assert item.status_code == 404 and problem_type(item) == "not-found"
    assert _ask(client, hall, "no-such-scan").status_code == 404
    assert client.get("/api/v1/me/consents?status=approved", headers=holder["headers"]).status_code == 422


def test_a_scan_past_its_life_takes_no_requests(client, clock):
    holder, credential, hall, scan_id = _setup(client)
    clock.shift(601)
    assert _ask(client, hall, scan_id).status_code == 404
