"""Policies (免申即享): publishers post rules; the people they hold for find them without
applying, again whenever a credential is issued or revoked, and take them up."""
from __future__ import annotations

import pytest

from tests.catalog.support import make_publisher, my_notices, my_policies, problem_type, publish
from tests.helpers import login, auth_headers, resident, valid_id_number
from tests.wallet.support import issued, make_issuer, resident_id_claims

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]


@pytest.fixture
def police(client, clock):
    return make_issuer(client, "市公安局", ("resident-id", "household-register"))


@pytest.fixture
def publisher(client, clock):
    return make_publisher(client)


def _born(client, police, birthdate, **person):
    holder = resident(client, **person)
    credential = issued(client, police, holder, claims=resident_id_claims(holder, birthdate=birthdate))
    return holder, credential


def _relogin(client, holder):
    holder["headers"] = auth_headers(login(client, holder["phone"], holder["password"])["access_token"])


def test_a_policy_finds_everyone_it_holds_for_without_applying(client, police, publisher):
    elder, _ = _born(client, police, "1960-05-01")
    young, _ = _born(client, police, "1990-05-01")
    response = publish(client, publisher, SENIORS, name="高龄津贴", benefit="每月200元")
    assert response.status_code == 201, response.json
    policy = response.json
    assert policy["rules"] == SENIORS and policy["name"] == "高龄津贴"

    [found] = my_policies(client, elder)
    assert found["id"] == policy["id"] and found["status"] == "found" and found["benefit"] == "每月200元"
    assert found["found_at"] == "2026-11-25T09:00:00Z"
    assert my_policies(client, young) == []
    [notice] = my_notices(client, elder)
    assert notice["kind"] == "policy" and notice["ref"] == policy["id"] and "高龄津贴" in notice["text"]
    assert my_notices(client, young) == []

    accepted = client.post(f"/api/v1/me/policies/{policy['id']}/accept", headers=elder["headers"])
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert accepted.json["accepted_at"] == "2026-11-25T09:00:00Z"
    assert my_policies(client, elder)[0]["status"] == "accepted"
    assert client.post(f"/api/v1/me/policies/{policy['id']}/accept",
                       headers=elder["headers"]).status_code == 200  # again is fine
    for holder, policy_id in ((young, policy["id"]), (elder, "no-such-policy"), (elder, "%00"), (elder, "é" * 40)):
        refused = client.post(f"/api/v1/me/policies/{policy_id}/accept", headers=holder["headers"])
        assert refused.status_code == 404 and problem_type(refused) == "not-found"


def test_issuing_and_revoking_re_evaluate_the_holder(client, police, publisher):
    policy = publish(client, publisher, SENIORS).json
    holder = resident(client)
    assert my_policies(client, holder) == []
    credential = issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1950-01-01"))
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]
    assert len(my_notices(client, holder)) == 1

    revoked = client.post(f"/api/v1/issuer/credentials/{credential['id']}/revoke", json={"reason": "wrong"},
                          headers=police["headers"])
    assert revoked.status_code == 200, revoked.json
    assert my_policies(client, holder) == []
    # Issued again: found again, and told again.
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1950-01-01"))
    assert [p["status"] for p in my_policies(client, holder)] == ["found"]
    assert len(my_notices(client, holder)) == 2


def test_a_credential_of_a_younger_birthdate_replaces_the_older_one(client, police, publisher, clock):
    publish(client, publisher, SENIORS)
    holder, _ = _born(client, police, "1950-01-01")
    assert len(my_policies(client, holder)) == 1
    clock.shift(1)
    # The newest valid credential of a type is the one that counts.
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1995-01-01"))
    assert my_policies(client, holder) == []


def test_found_before_registering_is_there_on_registering(client, police, publisher):
    policy = publish(client, publisher, SENIORS).json
    number = valid_id_number(77, "19500101")
    issued(client, police, {"id_number": number}, claims=resident_id_claims({"id_number": number},
                                                                            birthdate="1950-01-01"))
    holder = resident(client, id_number=number)
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]


def test_several_rules_over_several_credentials_must_all_hold(client, police, publisher, clock):
    rules = SENIORS + [{"credential": "social-security-card", "claim": "city", "op": "in", "value": ["北京", "天津"]}]
    policy = publish(client, publisher, rules).json
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    holder, _ = _born(client, police, "1950-01-01")
    assert my_policies(client, holder) == []
    issued(client, hr, holder, "social-security-card", {"name": holder["name"], "id_number": holder["id_number"],
                                                         "card_number": "M1", "city": "上海"})
    assert my_policies(client, holder) == []
    clock.shift(1)
    issued(client, hr, holder, "social-security-card", {"name": holder["name"], "id_number": holder["id_number"],
                                                         "card_number": "M2", "city": "北京"})
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]


def test_turning_sixty_is_found_by_the_daily_evaluation(client, police, publisher, clock, runner):
    policy = publish(client, publisher, SENIORS).json
    # 60 on 26 November in China, which begins at 16:00 UTC on the 25th.
    holder, _ = _born(client, police, "1966-11-26")
    assert my_policies(client, holder) == []
    clock.shift(6 * 3600)  # 15:00 UTC: still the 25th in Beijing
    result = runner.invoke(args=["catalog", "evaluate-policies"])
    assert result.exit_code == 0, result.output
    _relogin(client, holder)
    assert my_policies(client, holder) == []
    clock.shift(3600)  # 16:00 UTC: the 26th in Beijing
    runner.invoke(args=["catalog", "evaluate-policies"])
    runner.invoke(args=["catalog", "evaluate-policies"])  # idempotent: found once, told once
    _relogin(client, holder)
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]
    assert len(my_notices(client, holder)) == 1


def test_a_policy_in_force_later_is_found_then(client, police, publisher, clock, runner):
    holder, _ = _born(client, police, "1950-01-01")
    policy = publish(client, publisher, SENIORS, valid_from="2026-11-26T00:00:00Z",
                     valid_until="2026-12-31T16:00:00Z").json
    assert policy["valid_from"] == "2026-11-26T00:00:00Z"
    assert my_policies(client, holder) == [] and my_notices(client, holder) == []
    clock.shift(15 * 3600)
    assert runner.invoke(args=["catalog", "evaluate-policies"]).output.strip().endswith('{"queued": 1}')
    _relogin(client, holder)
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]
    clock.shift(40 * 24 * 3600)  # past valid_until: no longer listed, no longer accepted
    _relogin(client, holder)
    assert my_policies(client, holder) == []
    assert client.post(f"/api/v1/me/policies/{policy['id']}/accept", headers=holder["headers"]).status_code == 404


def test_only_policy_publishers_publish(client, police):
    plain = make_publisher(client, "市交管局", ("driver-licence",), publisher=False)
    for headers in (plain["headers"], police["headers"]):
        refused = publish(client, {"headers": headers}, SENIORS)
        assert refused.status_code == 403 and problem_type(refused) == "not-a-policy-publisher"
    holder = resident(client)
    assert publish(client, holder, SENIORS).status_code == 403  # a resident's token
    assert client.post("/api/v1/policies", json={"name": "x", "benefit": "y", "rules": SENIORS}).status_code == 401


@pytest.mark.parametrize("bad_rule, message", [
    ({"credential": "passport", "claim": "birthdate", "op": "age_gte", "value": 60}, "unknown credential type"),
    ({"credential": "resident-id", "claim": "shoe_size", "op": "eq", "value": 42}, "has no claim"),
    ({"credential": "resident-id", "claim": "birthdate", "op": "older_than", "value": 60}, "op: must be one of"),
    ({"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": "sixty"}, "whole number"),
    ({"credential": ["resident-id"], "claim": {}, "op": None}, "unknown credential type"),
])
def test_a_rule_with_an_unknown_type_claim_or_op_is_422(client, publisher, bad_rule, message):
    response = publish(client, publisher, SENIORS + [bad_rule])
    assert response.status_code == 422, response.json
    assert problem_type(response) == "validation-error"
    assert list(response.json["errors"]) == ["rules[1]"]
    assert any(message in m for m in response.json["errors"]["rules[1]"]), response.json


@pytest.mark.parametrize("body", [
    {}, {"name": "x", "benefit": "y"}, {"name": "x", "benefit": "y", "rules": []},
    {"name": "x", "benefit": "y", "rules": "age>60"}, {"name": "", "benefit": "y", "rules": SENIORS},
    {"name": "x", "benefit": "y" * 501, "rules": SENIORS}, {"name": "x\x00", "benefit": "y", "rules": SENIORS},
    {"name": "x", "benefit": "y", "rules": SENIORS, "valid_from": "soon"},
    {"name": "x", "benefit": "y", "rules": SENIORS, "valid_from": "2027-01-01T00:00:00Z",
     "valid_until": "2026-12-01T00:00:00Z"},
    {"name": "x", "benefit": "y", "rules": [SENIORS[0]] * 21},
])
def test_bad_policy_bodies_are_4xx_never_5xx(client, publisher, body):
    response = client.post("/api/v1/policies", json=body, headers=publisher["headers"])
    assert response.status_code == 422, (body, response.json)


def test_a_job_run_twice_changes_nothing_more(app, client, police, publisher):
    from catalog import jobs
    from catalog.models import Notice, PolicyMatch
    from core.extensions import db
    from sqlalchemy import func, select

    holder, _ = _born(client, police, "1950-01-01")
    policy = publish(client, publisher, SENIORS).json
    for _ in range(2):
        assert jobs.evaluate_policy_job(policy["id"])["found"] == 0  # found already, at publishing
    assert db.session.scalar(select(func.count()).select_from(PolicyMatch)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == "policy")) == 1
    assert jobs.evaluate_policy_job("no-such-policy") == {"holders": 0, "found": 0, "lapsed": 0}


def test_a_policy_found_before_registering_is_told_at_registration(client, police, publisher):
    from tests.helpers import registration_data

    elder = registration_data()
    issued(client, police, elder, claims=resident_id_claims(elder, birthdate="1950-01-01"))
    policy = publish(client, publisher, SENIORS).json  # found for a holder not registered yet

    assert client.post("/api/v1/residents", json=elder).status_code == 201
    tokens = login(client, elder["phone"], elder["password"])
    holder = {"headers": auth_headers(tokens["access_token"])}
    assert [p["id"] for p in my_policies(client, holder)] == [policy["id"]]
    told = [n for n in my_notices(client, holder) if n.get("ref") == policy["id"]]
    assert len(told) == 1


def test_registering_with_nothing_found_tells_nothing(client, police, publisher):
    publish(client, publisher, SENIORS)
    young = resident(client)
    assert my_notices(client, young) == []
