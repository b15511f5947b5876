"""Service points: created by an operator, signed in with client credentials."""
from __future__ import annotations

import json

import pytest

from core.extensions import db
from codes.models import ServicePoint
from tests.codes.support import problem_type


def _create(runner, *args):
    return runner.invoke(args=["service-point", "create", *args])


def test_create_prints_working_credentials_once(runner, client):
    result = _create(runner, "Citizen Service Hall, Xicheng", "--purpose", "identity-check",
                     "--purpose", "service-handling")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"client_id", "client_secret"}
    point = db.session.scalars(db.select(ServicePoint).filter_by(client_id=created["client_id"])).one()
    assert point.name == "Citizen Service Hall, Xicheng"
    assert point.purposes == ["identity-check", "service-handling"]
    assert created["client_secret"] not in point.secret_hash and len(point.secret_hash) == 64
    response = client.post("/api/v1/service-points/token", json=created)
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in"}
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 3600


def test_create_needs_a_purpose(runner):
    result = _create(runner, "Kiosk")
    assert result.exit_code != 0
    assert "--purpose" in result.output


def test_create_refuses_an_empty_name(runner):
    assert _create(runner, " ", "--purpose", "x").exit_code != 0


@pytest.fixture
def credentials(runner):
    return json.loads(_create(runner, "Gate", "--purpose", "transit").output)


def test_a_wrong_secret_or_unknown_client(client, credentials):
    for body in ({**credentials, "client_secret": "wrong"},
                 {**credentials, "client_id": "sp_nosuchclient"},
                 {"client_id": credentials["client_id"], "client_secret": credentials["client_secret"] + "x"}):
        response = client.post("/api/v1/service-points/token", json=body)
        assert response.status_code == 401
        assert problem_type(response) == "invalid-client"


def test_an_inactive_service_point_gets_no_token(client, credentials):
    db.session.scalars(db.select(ServicePoint).filter_by(client_id=credentials["client_id"])).one().active = False
    db.session.commit()
    assert problem_type(client.post("/api/v1/service-points/token", json=credentials)) == "invalid-client"


@pytest.mark.parametrize("body", [
    None, [], {}, {"client_id": "x"}, {"client_secret": "x"},
    {"client_id": "", "client_secret": "x"}, {"client_id": "x", "client_secret": ""},
    {"client_id": 1, "client_secret": "x"}, {"client_id": "x", "client_secret": ["x"]},
    {"client_id": "x" * 65, "client_secret": "x"}, {"client_id": "x", "client_secret": "x" * 257},
    {"client_id": "x\x00", "client_secret": "x"}, {"client_id": "x", "client_secret": "x\x00"},
    {"client_id": "客户端", "client_secret": "密钥😀"},
])
def test_bad_input_is_a_4xx_problem(client, body):
    response = client.post("/api/v1/service-points/token", json=body)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_lone_surrogates_are_a_4xx_problem(client):
    response = client.post("/api/v1/service-points/token", data='{"client_id": "\\ud800", "client_secret": "\\udc00"}',
                           headers={"Content-Type": "application/json"})
    # Not Unicode text: refused as JSON before any field sees it (app.untrusted_json).
    assert response.status_code == 400
    assert response.json["type"].endswith("/malformed-json")
