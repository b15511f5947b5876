"""`flask demo seed`: idempotent, and the credentials it prints work."""
from __future__ import annotations

import json

from core.extensions import db
from codes.models import ServicePoint, SigningKey
from tests.helpers import auth_headers, login


def _seed(runner) -> dict:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seed_is_idempotent_and_its_credentials_work(runner, client, clock):
    first = _seed(runner)
    assert len(first["residents"]) >= 3 and len(first["service_points"]) >= 2
    assert _seed(runner) == first
    assert db.session.scalar(db.select(db.func.count()).select_from(ServicePoint)) == len(first["service_points"])
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 1

    demo = first["residents"][0]
    assert set(demo) == {"name", "username", "phone", "password"}
    tokens = login(client, demo["username"], demo["password"])
    assert "access_token" in tokens, tokens
    code = client.get("/api/v1/me/code", headers=auth_headers(tokens["access_token"])).json["code"]

    hall = first["service_points"][0]
    assert set(hall) == {"name", "client_id", "client_secret", "purposes"}
    token = client.post("/api/v1/service-points/token", json={
        "client_id": hall["client_id"], "client_secret": hall["client_secret"]})
    assert token.status_code == 200
    response = client.post("/api/v1/scans", json={"code": code, "purpose": hall["purposes"][0]},
                           headers=auth_headers(token.json["access_token"]))
    assert response.status_code == 201
    assert response.json["subject"]["display_name"] == demo["name"][0] + "*" * (len(demo["name"]) - 1)


def test_seed_leaves_existing_rows_alone(runner, clock):
    _seed(runner)
    hall = db.session.scalars(db.select(ServicePoint).filter_by(client_id="demo-xicheng-hall")).one()
    hall.name = "Renamed by an operator"
    db.session.commit()
    _seed(runner)
    db.session.refresh(hall)
    assert hall.name == "Renamed by an operator"


def test_demo_secrets_are_not_stored(runner, clock):
    out = _seed(runner)
    for point in out["service_points"]:
        row = db.session.scalars(db.select(ServicePoint).filter_by(client_id=point["client_id"])).one()
        assert point["client_secret"] not in row.secret_hash
