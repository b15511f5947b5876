"""Status lists and revocation, as an offline verifier sees them."""
from __future__ import annotations

import base64
import json
import zlib

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from tests.codes.support import problem_type
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer


def _status_bit(client, entry: dict) -> int:
    """Fetch the list as an outside verifier: check the platform's signature, inflate, read."""
    path = entry["uri"].removeprefix("http://onecode.test")
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/statuslist+jwt"
    token = JWS()
    token.deserialize(response.get_data(as_text=True))
    header = token.jose_header
    assert header["typ"] == "statuslist+jwt"
    platform = client.get("/api/v1/trust-list").json["platform"]["jwks"]["keys"]
    token.verify(JWK(**next(k for k in platform if k["kid"] == header["kid"])), alg="EdDSA")
    payload = json.loads(token.payload)
    assert payload["sub"] == entry["uri"] and payload["status_list"]["bits"] == 1
    lst = payload["status_list"]["lst"]
    bits = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    idx = entry["idx"]
    return (bits[idx // 8] >> (idx % 8)) & 1


def test_revocation_flips_the_bit_at_once_and_keeps_the_reason(client):
    issuer = make_issuer(client)
    holder = resident(client)
    body = issued(client, issuer, holder)
    neighbour = issued(client, issuer, holder)
    assert _status_bit(client, body["status_list"]) == 0
    response = client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke",
                           json={"reason": "superseded"}, headers=issuer["headers"])
    assert response.status_code == 200 and response.json["reason"] == "superseded"
    assert _status_bit(client, body["status_list"]) == 1
    assert _status_bit(client, neighbour["status_list"]) == 0
    again = client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke",
                        json={"reason": "again"}, headers=issuer["headers"])
    assert again.status_code == 409 and problem_type(again) == "already-revoked"


def test_only_the_issuing_issuer_revokes(client):
    issuer, other = make_issuer(client), make_issuer(client, name="另一个公安局")
    body = issued(client, issuer, resident(client))
    response = client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke",
                           json={"reason": "x"}, headers=other["headers"])
    assert response.status_code == 404
    assert _status_bit(client, body["status_list"]) == 0
    assert client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke", json={},
                       headers=issuer["headers"]).status_code == 422


def test_entries_are_random_and_distinct(client):
    issuer = make_issuer(client)
    holder = resident(client)
    entries = [issued(client, issuer, holder)["status_list"] for _ in range(6)]
    assert len({(e["uri"], e["idx"]) for e in entries}) == 6
    assert sorted(e["idx"] for e in entries) != list(range(6))


def test_a_full_list_gives_way_to_a_new_one(app, client):
    from wallet.models import StatusList

    issuer = make_issuer(client)
    holder = resident(client)
    StatusList.query.update({"full": True})  # start from a list of the small size below
    app.config["STATUS_LIST_SIZE"] = 8
    try:
        entries = [issued(client, issuer, holder)["status_list"] for _ in range(12)]
    finally:
        app.config["STATUS_LIST_SIZE"] = 131072
    uris = {e["uri"] for e in entries}
    assert len(uris) >= 2
    assert len({(e["uri"], e["idx"]) for e in entries}) == 12
    assert StatusList.query.filter_by(full=True).count() >= 1


def test_unknown_status_list_is_404(client):
    assert client.get("/api/v1/status-lists/nope").status_code == 404
