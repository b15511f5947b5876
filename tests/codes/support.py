"""What a scanner does, as plain functions of the test client."""
from __future__ import annotations

from core.extensions import db
from tests.helpers import auth_headers


def make_service_point(client, name: str = "Citizen Service Hall", purposes=("identity-check",)) -> dict:
    """Create a service point and sign it in; returns its credentials and ``headers``."""
    from codes.service_points import create_service_point

    point, secret = create_service_point(name, list(purposes))
    point_id, client_id = point.id, point.client_id
    # Read nothing after the commit: that would open a transaction that, on SQLite (BEGIN
    # IMMEDIATE), holds the write lock while other threads want it.
    db.session.commit()
    response = client.post("/api/v1/service-points/token",
                           json={"client_id": client_id, "client_secret": secret})
    assert response.status_code == 200, response.json
    return {"id": point_id, "client_id": client_id, "client_secret": secret,
            "headers": auth_headers(response.json["access_token"])}


def my_code(client, holder) -> dict:
    response = client.get("/api/v1/me/code", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def scan(client, scanner, code: str, purpose: str = "identity-check"):
    return client.post("/api/v1/scans", json={"code": code, "purpose": purpose},
                       headers=scanner["headers"])


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.data[:200]
    return response.json["type"].rsplit("/", 1)[-1]


def signed_in_again(client, person: dict) -> dict:
    """The resident's ``headers`` after a new sign-in (after moving time past the token's life)."""
    from tests.helpers import login

    tokens = login(client, person["phone"], person["password"])
    return {**person, "tokens": tokens, "headers": auth_headers(tokens["access_token"])}


def scanner_token_again(client, scanner: dict) -> dict:
    response = client.post("/api/v1/service-points/token", json={
        "client_id": scanner["client_id"], "client_secret": scanner["client_secret"]})
    return {**scanner, "headers": auth_headers(response.json["access_token"])}
