"""Issuers, their tokens, the catalogue, and issuing credentials."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.codes.support import problem_type
from tests.helpers import resident, valid_id_number
from tests.wallet.support import (
    disclosed_names,
    issue,
    issued,
    jwt_payload,
    make_issuer,
    outside_verifier,
    resident_id_claims,
)


def test_issuer_create_prints_credentials_that_sign_in(runner, client):
    result = runner.invoke(args=["issuer", "create", "市公安局", "--type", "resident-id",
                                 "--type", "household-register"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output.strip().splitlines()[-1])
    assert set(created) == {"client_id", "client_secret"}
    token = client.post("/api/v1/issuers/token", json=created)
    assert token.status_code == 200
    assert set(token.json) == {"access_token", "token_type", "expires_in"}
    wrong = client.post("/api/v1/issuers/token",
                        json={"client_id": created["client_id"], "client_secret": "nope"})
    assert wrong.status_code == 401 and problem_type(wrong) == "invalid-client"


def test_issuer_create_refuses_an_unknown_type(runner):
    result = runner.invoke(args=["issuer", "create", "X", "--type", "no-such-type"])
    assert result.exit_code != 0
    assert "no-such-type" in result.output


def test_issued_credential_is_an_sd_jwt_vc_an_outside_verifier_accepts(client):
    issuer = make_issuer(client)
    holder = resident(client)
    body = issued(client, issuer, holder, valid_until="2036-03-07T00:00:00Z")
    sd_jwt = body["credential"]
    payload = jwt_payload(sd_jwt)
    assert payload["vct"] == "resident-id"
    assert payload["iss"].startswith("http://onecode.test/api/v1/issuers/")
    assert payload["exp"] == int(datetime(2036, 3, 7, tzinfo=timezone.utc).timestamp()) and isinstance(payload["iat"], int)
    assert payload["cnf"]["jwk"]["crv"] == "P-256"
    entry = payload["status"]["status_list"]
    assert entry == body["status_list"] and entry["uri"].startswith("http://onecode.test/api/v1/status-lists/")
    # Every claim is selectively disclosable: none is in the signed payload in clear.
    claims = resident_id_claims(holder)
    assert not set(claims) & set(payload)
    assert disclosed_names(sd_jwt) == set(claims)
    verified = outside_verifier(client, sd_jwt)
    assert {k: verified[k] for k in claims} == claims


def test_issuing_answers_alike_whether_or_not_the_holder_registered(client):
    # Neither the answer nor the issuer's later ones depend on whether the holder registered,
    # so issuing tells no one who has, and needs no limit of the kind proxy invitations have.
    issuer = make_issuer(client)
    registered = resident(client)
    unregistered = {"name": "李四", "id_number": valid_id_number(7, "19510101")}
    shapes = []
    for holder in (registered, unregistered):
        body = issued(client, issuer, holder)
        payload = jwt_payload(body["credential"])
        revoked = client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke",
                              json={"reason": "reissued"}, headers=issuer["headers"])
        mismatch = issue(client, issuer, holder,
                         claims=resident_id_claims(holder, id_number=valid_id_number(8, "19510101")))
        shapes.append((sorted(body), sorted(payload), sorted(payload["cnf"]["jwk"]),
                       disclosed_names(body["credential"]), revoked.status_code, sorted(revoked.json),
                       mismatch.status_code, mismatch.json["errors"]))
    assert shapes[0] == shapes[1]
    assert shapes[0][4] == 200 and shapes[0][6] == 422


def test_type_not_allowed_is_403(client):
    issuer = make_issuer(client, types=("household-register",))
    response = issue(client, issuer, resident(client))
    assert response.status_code == 403 and problem_type(response) == "type-not-allowed"


def test_unknown_and_missing_claims_are_named(client):
    issuer = make_issuer(client)
    holder = resident(client)
    claims = resident_id_claims(holder, shoe_size="42")
    del claims["address"]
    response = issue(client, issuer, holder, claims=claims)
    assert response.status_code == 422 and problem_type(response) == "validation-error"
    text = " ".join(response.json["errors"]["claims"])
    assert "shoe_size" in text and "address" in text


def test_optional_claim_may_be_left_out_and_given(client):
    issuer = make_issuer(client)
    holder = resident(client)
    assert issue(client, issuer, holder, claims=resident_id_claims(holder, portrait="/9j/4AAQ")).status_code == 201


def test_a_credential_naming_someone_else_is_refused(client):
    issuer = make_issuer(client)
    holder = resident(client)
    response = issue(client, issuer, holder, claims=resident_id_claims(holder, id_number=valid_id_number(7)))
    assert response.status_code == 422 and "id_number" in " ".join(response.json["errors"]["claims"])


@pytest.mark.parametrize("body", [
    {},
    {"type": "resident-id"},
    {"type": "resident-id", "holder": {"id_number": "110101199003070000"}, "claims": {}},
    {"type": "resident-id", "holder": {"id_number": "x", "uscc": "y"}, "claims": {}},
    {"type": "resident-id", "holder": "110101199003070011", "claims": {}},
    {"type": "resident-id", "holder": {"uscc": "91350100M000100Y4"}, "claims": {}},
    {"type": ["resident-id"], "holder": {}, "claims": []},
    {"type": "no-such-type", "holder": {"id_number": "11010119900307001X"}, "claims": {}},
    {"type": "resident-id", "holder": {"id_number": "11010119900307001X"}, "claims": {"name": {"a": 1}}},
    {"type": "resident-id", "holder": {"id_number": "11010119900307001X"}, "claims": {},
     "valid_until": "yesterday"},
    {"type": "resident-id", "holder": {"id_number": "11010119900307001X"}, "claims": {},
     "valid_until": "2001-01-01T00:00:00Z"},
])
def test_bad_issue_requests_are_4xx(client, body):
    issuer = make_issuer(client)
    response = client.post("/api/v1/issuer/credentials", json=body, headers=issuer["headers"])
    assert 400 <= response.status_code < 500, response.json
    assert response.mimetype == "application/problem+json"


def test_only_issuer_tokens_issue(client):
    holder = resident(client)
    body = {"type": "resident-id", "holder": {"id_number": holder["id_number"]},
            "claims": resident_id_claims(holder)}
    assert client.post("/api/v1/issuer/credentials", json=body).status_code == 401
    assert client.post("/api/v1/issuer/credentials", json=body, headers=holder["headers"]).status_code == 403


def test_business_licence_for_an_enterprise_by_uscc(client):
    from identity.uscc import complete as make_uscc

    issuer = make_issuer(client, name="市场监督管理局", types=("business-licence",))
    uscc = make_uscc("91110000" + "60000001")
    boss = resident(client)
    response = client.post("/api/v1/issuer/credentials", headers=issuer["headers"], json={
        "type": "business-licence", "holder": {"uscc": uscc}, "claims": {
            "uscc": uscc, "enterprise_name": "一码通科技有限公司", "legal_representative": "张三丰",
            "legal_representative_id_number": boss["id_number"], "registered_capital": "1000000",
            "address": "北京市海淀区"}})
    assert response.status_code == 201, response.json
    # An enterprise's licence is not in the legal representative's own wallet.
    wallet = client.get("/api/v1/me/wallet", headers=boss["headers"]).json
    assert wallet == {"cards": [], "certificates": []}


def test_catalog_load_yaml_is_idempotent_and_names_bad_entries(runner, tmp_path, client):
    good = tmp_path / "types.yaml"
    good.write_text("credential_types:\n"
                    "  - vct: library-card\n    kind: card\n    name: 图书证\n"
                    "    claims: [name, id_number, card_number]\n    required: [name, card_number]\n",
                    encoding="utf-8")
    first = runner.invoke(args=["catalog", "load", str(good)])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output.strip().splitlines()[-1])["credential_types"]["created"] == ["library-card"]
    again = runner.invoke(args=["catalog", "load", str(good)])
    assert json.loads(again.output.strip().splitlines()[-1])["credential_types"]["unchanged"] == ["library-card"]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"credential_types": [
        {"vct": "ok-type", "kind": "card", "claims": ["a"]},
        {"vct": "x y", "kind": "licence", "claims": []}]}))
    result = runner.invoke(args=["catalog", "load", str(bad)])
    assert result.exit_code != 0
    assert "credential_types[1]" in result.output and "kind" in result.output
    assert "credential_types[0]" not in result.output

    # The loaded type is issuable by an issuer allowed it, with its own required claims.
    issuer = make_issuer(client, name="市图书馆", types=("library-card",))
    holder = resident(client)
    assert issue(client, issuer, holder, "library-card", {"name": "张三丰", "card_number": "L001"}).status_code == 201
    unknown = runner.invoke(args=["catalog", "load", str(good)])
    assert unknown.exit_code == 0
    odd = tmp_path / "odd.yaml"
    odd.write_text("service_things: []\n")
    assert runner.invoke(args=["catalog", "load", str(odd)]).exit_code != 0


@pytest.mark.parametrize("body", [[], "x", 1, None, {"unexpected": True}])
def test_odd_bodies_on_every_wallet_post_are_4xx(client, body):
    from tests.codes.support import make_service_point

    issuer = make_issuer(client)
    holder = resident(client)
    point = make_service_point(client)
    for path, headers in (("/api/v1/issuers/token", {}),
                          ("/api/v1/issuer/credentials", issuer["headers"]),
                          ("/api/v1/issuer/credentials/x/revoke", issuer["headers"]),
                          ("/api/v1/me/wallet/x/presentations", holder["headers"]),
                          ("/api/v1/credentials/verify", {}),
                          ("/api/v1/scans/x/requests", point["headers"])):
        response = client.post(path, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)


# One valid_until: the claim (a date, valid through that day in China) and the credential's own.


def test_a_valid_until_claim_alone_is_the_credentials_valid_until(client, clock):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder,
                  claims=resident_id_claims(holder, valid_until="2032-05-05"))
    assert body["valid_until"] == "2032-05-05T16:00:00Z"  # the end of 5 May in China
    assert jwt_payload(body["credential"].split("~")[0])["exp"] == 1967385600
    wallet = client.get("/api/v1/me/wallet", headers=holder["headers"]).json
    assert wallet["certificates"][0]["valid_until"] == "2032-05-05T16:00:00Z"
    compact = issued(client, make_issuer(client), holder,
                     claims=resident_id_claims(holder, valid_until="20320505"))
    assert compact["valid_until"] == "2032-05-05T16:00:00Z"


def test_the_credentials_valid_until_must_name_the_claims_day(client, clock):
    holder = resident(client)
    issuer = make_issuer(client)
    same_day = issued(client, issuer, holder, claims=resident_id_claims(holder, valid_until="2032-05-05"),
                      valid_until="2032-05-05T00:00:00Z")
    assert same_day["valid_until"] == "2032-05-05T00:00:00Z"
    for other in ("2032-05-05T16:00:01Z", "2032-05-04T15:59:59Z", "2040-01-01T00:00:00Z"):
        response = issue(client, issuer, holder, claims=resident_id_claims(holder, valid_until="2032-05-05"),
                         valid_until=other)
        assert response.status_code == 422 and "valid_until" in response.json["errors"], other


def test_a_valid_until_claim_must_be_a_date(client, clock):
    holder = resident(client)
    issuer = make_issuer(client)
    for value in ("长期", "2032-13-01", "2032/05/05", "2032-05-05T00:00:00Z", "yesterday"):
        response = issue(client, issuer, holder, claims=resident_id_claims(holder, valid_until=value))
        assert response.status_code == 422 and "claims" in response.json["errors"], value
    past = issue(client, issuer, holder, claims=resident_id_claims(holder, valid_until="2020-01-01"))
    assert past.status_code == 422 and "valid_until" in past.json["errors"]
