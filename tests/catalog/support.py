"""What a department, a policy publisher and the phone app do with the catalogue, as plain
functions of the test client."""
from __future__ import annotations

from core.extensions import db
from tests.helpers import auth_headers

ALL_TYPES = ("resident-id", "household-register", "birth-certificate", "business-licence",
             "driver-licence", "social-security-card", "medical-insurance-card")


def load_sample_catalogue() -> None:
    """The sample catalogue's items and bundles (not the demo policy)."""
    import yaml

    from catalog.cli import load_catalogue
    from catalog.demo import SAMPLE

    load_catalogue(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    db.session.commit()


def make_publisher(client, name: str = "市人力资源和社会保障局", types=("social-security-card",),
                   publisher: bool = True) -> dict:
    """An issuer (a policy publisher unless told otherwise), signed in."""
    from wallet.issuers import create_issuer

    issuer, secret = create_issuer(name, list(types), policy_publisher=publisher)
    client_id = issuer.client_id
    db.session.commit()
    response = client.post("/api/v1/issuers/token", json={"client_id": client_id, "client_secret": secret})
    assert response.status_code == 200, response.json
    return {"client_id": client_id, "headers": auth_headers(response.json["access_token"])}


def publish(client, publisher: dict, rules: list, name: str = "高龄津贴", benefit: str = "每月200元", **extra):
    return client.post("/api/v1/policies", json={"name": name, "benefit": benefit, "rules": rules, **extra},
                       headers=publisher["headers"])


def my_policies(client, holder: dict) -> list:
    response = client.get("/api/v1/me/policies", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def my_notices(client, holder: dict, **query) -> list:
    """The holder's notices about applications and policies, the ones the catalogue writes
    (those about credentials issued and revoked: tests/mobile_api/test_credential_notices.py)."""
    response = client.get("/api/v1/me/notices", query_string=query, headers=holder["headers"])
    assert response.status_code == 200, response.json
    return [n for n in response.json if n["kind"] != "credential"]


def read_credential_notices(client, holder: dict) -> None:
    """Mark the holder's notices about credentials read, so that counts are the catalogue's."""
    response = client.get("/api/v1/me/notices", headers=holder["headers"])
    for notice in response.json:
        if notice["kind"] == "credential":
            client.post(f"/api/v1/me/notices/{notice['id']}/read", headers=holder["headers"])


def problem_type(response) -> str:
    return response.json["type"].rsplit("/", 1)[-1]
