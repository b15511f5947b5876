"""The holder is told, in /me/notices, when a credential is issued to them or revoked."""
from __future__ import annotations

from tests.helpers import auth_headers, login, register, registration_data, resident
from tests.wallet.support import issued, make_issuer


def _notices(client, holder):
    response = client.get("/api/v1/me/notices", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def _items(body):
    return body["notices"] if isinstance(body, dict) else body


def test_issuing_and_revoking_leave_a_notice(client, clock):
    holder = resident(client)
    issuer = make_issuer(client)
    body = issued(client, issuer, holder)
    [notice] = _items(_notices(client, holder))
    assert notice["kind"] == "credential" and notice["ref"] == body["id"]
    assert "市公安局" in notice["text"] and "居民身份证" in notice["text"]
    clock.shift(1)
    revoked = client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke",
                          json={"reason": "reported lost"}, headers=issuer["headers"])
    assert revoked.status_code == 200
    newest = _items(_notices(client, holder))[0]
    assert newest["kind"] == "credential" and newest["ref"] == body["id"]
    assert "revoked" in newest["text"] and "reported lost" in newest["text"]
    home = client.get("/api/v1/me/home", headers=holder["headers"]).json
    assert home["unread_notices"] == 2


def test_no_notice_for_someone_not_registered_yet(client, clock):
    data = registration_data()
    issued(client, make_issuer(client), {"id_number": data["id_number"], "name": data["name"]})
    assert register(client, **data)["status"] == 201
    tokens = login(client, data["phone"], data["password"])
    notices = _items(_notices(client, {"headers": auth_headers(tokens["access_token"])}))
    assert [n for n in notices if n["kind"] == "credential"] == []  # the wallet shows it
