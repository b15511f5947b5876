"""The wallet's part of the demo seed: issuers and first credentials, idempotent."""
from __future__ import annotations

from core.extensions import db
from tests.helpers import resident
from wallet.demo import seed_credentials, seed_issuers


def test_demo_issuers_and_credentials_are_seeded_once(client):
    holder = resident(client)
    first = seed_issuers(lambda client_id: "secret-of-" + client_id)
    again = seed_issuers(lambda client_id: "secret-of-" + client_id)
    assert first == again and {i["client_id"] for i in first} >= {"demo-public-security"}
    token = client.post("/api/v1/issuers/token", json={"client_id": "demo-public-security",
                                                       "client_secret": "secret-of-demo-public-security"})
    assert token.status_code == 200

    residents = [{"name": holder["name"], "username": holder["id_number"]}]
    assert seed_credentials(residents) == 2
    assert seed_credentials(residents) == 0
    db.session.commit()
    wallet = client.get("/api/v1/me/wallet", headers=holder["headers"]).json
    assert [c["type"] for c in wallet["certificates"]] == ["resident-id"]
    assert [c["type"] for c in wallet["cards"]] == ["social-security-card"]
    assert wallet["certificates"][0]["status"] == "valid"
