"""An operator disables an issuer: its tokens stop at once on issuing, revoking, policies and
its department's applications; enabling it again lets it ask for new ones while the old ones
stay dead. What it issued stays valid."""
from __future__ import annotations

import json

import pytest

from tests.codes.support import problem_type
from tests.helpers import auth_headers, resident
from tests.wallet.support import issue, issued, resident_id_claims

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]
QUEUE = "/api/v1/issuer/applications"


@pytest.fixture
def department(client, clock):
    """A policy-publishing issuer of resident IDs, signed in, and one credential it issued."""
    from core.extensions import db
    from wallet.issuers import create_issuer

    issuer, secret = create_issuer("市公安局", ["resident-id"], policy_publisher=True)
    client_id = issuer.client_id
    db.session.commit()
    signed_in = {"client_id": client_id, "client_secret": secret}
    signed_in["headers"] = _token(client, signed_in)
    holder = resident(client)
    credential = issued(client, signed_in, holder)
    return {**signed_in, "holder": holder, "credential": credential}


def _token(client, issuer: dict) -> dict:
    response = client.post("/api/v1/issuers/token", json={
        "client_id": issuer["client_id"], "client_secret": issuer["client_secret"]})
    assert response.status_code == 200, response.json
    return auth_headers(response.json["access_token"])


def _routes(client, department: dict, headers: dict) -> dict:
    """Every route an issuer uses, called with these headers: name → response."""
    issuer = {**department, "headers": headers}
    credential_id = department["credential"]["id"]
    return {
        "issue": issue(client, issuer, department["holder"],
                       claims=resident_id_claims(department["holder"], address="新地址")),
        "revoke": client.post(f"/api/v1/issuer/credentials/{credential_id}/revoke",
                              json={"reason": "superseded"}, headers=headers),
        "policy": client.post("/api/v1/policies", json={"name": "高龄津贴", "benefit": "每月200元",
                                                        "rules": SENIORS}, headers=headers),
        "queue": client.get(QUEUE, headers=headers),
        "application": client.get(f"{QUEUE}/AAAAAAAAAAAAAAAAAAAAAA", headers=headers),
        "answer": client.post(f"{QUEUE}/AAAAAAAAAAAAAAAAAAAAAA/status",
                              json={"status": "accepted"}, headers=headers),
    }


def test_a_disabled_issuers_token_stops_on_every_route(client, runner, department):
    result = runner.invoke(args=["issuer", "disable", department["client_id"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"client_id": department["client_id"], "active": False}

    for route, response in _routes(client, department, department["headers"]).items():
        assert response.status_code == 401, route
        assert problem_type(response) == "client-disabled", route
    token = client.post("/api/v1/issuers/token", json={
        "client_id": department["client_id"], "client_secret": department["client_secret"]})
    assert token.status_code == 401 and problem_type(token) == "invalid-client"
    # What it issued before stays valid: disabling a department is not revoking its work.
    verified = client.post("/api/v1/credentials/verify",
                           json={"credential": department["credential"]["credential"]}).json
    assert verified["status"] == "valid"


def test_enabling_again_gives_new_tokens_while_the_old_ones_stay_dead(client, runner, department):
    assert runner.invoke(args=["issuer", "disable", department["client_id"]]).exit_code == 0
    result = runner.invoke(args=["issuer", "enable", department["client_id"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["active"] is True

    for route, response in _routes(client, department, department["headers"]).items():
        assert response.status_code == 401, route
        assert problem_type(response) == "token-revoked", route

    answers = _routes(client, department, _token(client, department))
    assert answers["issue"].status_code == 201, answers["issue"].json
    assert answers["revoke"].status_code == 200, answers["revoke"].json
    assert answers["policy"].status_code == 201, answers["policy"].json
    assert answers["queue"].status_code == 200 and answers["queue"].json == []
    assert answers["application"].status_code == 404
    assert answers["answer"].status_code == 404


def test_an_unknown_issuer_is_a_clear_error(runner):
    for action in ("disable", "enable"):
        result = runner.invoke(args=["issuer", action, "is_nosuchissuer"])
        assert result.exit_code != 0
        assert "no issuer has this client id" in result.output
