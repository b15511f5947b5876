"""Delegation: members, scopes, expiry and revocation on the next request; no IDOR."""
from __future__ import annotations

import pytest

from tests.codes.support import problem_type
from tests.enterprises.support import (
    add_member,
    member_id,
    new_uscc,
    register_enterprise,
    verified_enterprise,
)
from tests.helpers import resident

ALL = {"show-code", "wallet:read", "consent", "manage-members", "seal"}


def _get(client, person, path):
    return client.get(f"/api/v1/enterprises/{path}", headers=person["headers"])


def test_the_legal_representative_delegates_and_the_member_sees_role_and_scopes(client):
    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    response = add_member(client, boss, enterprise["id"], clerk, scopes=["show-code", "wallet:read"],
                          expires_at="2027-01-01T00:00:00Z")
    assert response.status_code == 201, response.json
    assert response.json["role"] == "staff" and response.json["member_id"]
    assert response.json["expires_at"] == "2027-01-01T00:00:00Z"
    seen = _get(client, clerk, enterprise["id"]).json
    assert seen["verified"] is True and seen["legal_representative"] is False
    assert seen["role"] == "staff" and seen["scopes"] == ["show-code", "wallet:read"]
    assert [e["id"] for e in client.get("/api/v1/me/enterprises", headers=clerk["headers"]).json] == [
        enterprise["id"]]
    assert _get(client, clerk, enterprise["id"] + "/code").status_code == 200
    assert _get(client, clerk, enterprise["id"] + "/wallet").status_code == 200
    members = _get(client, boss, enterprise["id"] + "/members").json
    assert len(members) == 2 and any(m["display_name"] == "张**" and m["role"] == "staff" for m in members)


def test_a_member_without_the_scope_gets_scope_missing(client):
    boss, clerk, third = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["consent"])
    for path in ("/code", "/wallet", "/members"):
        response = _get(client, clerk, enterprise["id"] + path)
        assert response.status_code == 403 and problem_type(response) == "scope-missing", path
    response = add_member(client, clerk, enterprise["id"], third)
    assert response.status_code == 403 and problem_type(response) == "scope-missing"


def test_a_manager_grants_only_what_they_hold_and_cannot_touch_the_legal_representative(client):
    boss, admin, clerk = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], admin, role="admin", scopes=["manage-members", "show-code"])
    too_much = add_member(client, admin, enterprise["id"], clerk, scopes=["wallet:read"])
    assert too_much.status_code == 403 and problem_type(too_much) == "scope-missing"
    assert add_member(client, admin, enterprise["id"], clerk, scopes=["show-code"]).status_code == 201
    again = add_member(client, admin, enterprise["id"], clerk, scopes=["show-code"])
    assert again.status_code == 409 and problem_type(again) == "already-member"
    rep = add_member(client, admin, enterprise["id"], boss, scopes=[])
    assert rep.status_code == 409 and problem_type(rep) == "legal-representative"
    boss_row = next(m for m in _get(client, admin, enterprise["id"] + "/members").json
                    if m["scopes"] and set(m["scopes"]) == ALL)
    gone = client.delete(f"/api/v1/enterprises/{enterprise['id']}/members/{boss_row['member_id']}",
                         headers=admin["headers"])
    assert gone.status_code == 409 and problem_type(gone) == "legal-representative"


def test_a_revoked_member_loses_access_on_the_next_request(client):
    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    mid = member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    assert _get(client, clerk, enterprise["id"] + "/code").status_code == 200
    response = client.delete(f"/api/v1/enterprises/{enterprise['id']}/members/{mid}", headers=boss["headers"])
    assert response.status_code == 204
    for path in ("", "/code", "/wallet", "/members"):
        assert _get(client, clerk, enterprise["id"] + path).status_code == 404, path
    assert client.get("/api/v1/me/enterprises", headers=clerk["headers"]).json == []
    again = client.delete(f"/api/v1/enterprises/{enterprise['id']}/members/{mid}", headers=boss["headers"])
    assert again.status_code == 404
    # Added again, the membership reopens with the new grant.
    assert add_member(client, boss, enterprise["id"], clerk, scopes=["wallet:read"]).status_code == 201
    assert _get(client, clerk, enterprise["id"]).json["scopes"] == ["wallet:read"]


def test_an_expired_member_loses_access_with_no_event(client, clock):
    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"], expires_at="2026-11-25T09:10:00Z")
    assert _get(client, clerk, enterprise["id"] + "/code").status_code == 200
    clock.shift(10 * 60)
    assert _get(client, clerk, enterprise["id"]).status_code == 404
    assert _get(client, clerk, enterprise["id"] + "/code").status_code == 404
    assert _get(client, boss, enterprise["id"]).status_code == 200


def test_an_expiry_in_the_past_or_without_a_zone_is_refused(client):
    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    for expires_at in ("2020-01-01T00:00:00Z", "2027-01-01T00:00:00", "soon"):
        response = add_member(client, boss, enterprise["id"], clerk, expires_at=expires_at)
        assert response.status_code == 422, expires_at


@pytest.mark.parametrize("body", [
    {}, {"id_number": "110101199003070000", "role": "staff", "scopes": []},
    {"id_number": 5, "role": "staff", "scopes": []}, {"role": "owner", "scopes": [], "id_number": "x"},
    {"id_number": "x", "role": "staff", "scopes": ["root"]}, {"id_number": "x", "role": "staff", "scopes": "show-code"},
    {"id_number": "\x00", "role": "staff", "scopes": []}, [],
])
def test_bad_member_bodies_are_4xx(client, body):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    response = client.post(f"/api/v1/enterprises/{enterprise['id']}/members", json=body, headers=boss["headers"])
    assert 400 <= response.status_code < 500, response.json


def test_an_unregistered_id_number_cannot_be_a_member(client):
    from tests.helpers import valid_id_number

    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    response = add_member(client, boss, enterprise["id"], {"id_number": valid_id_number(999, "19700101")})
    assert response.status_code == 422 and "id_number" in response.json["errors"]


def test_another_residents_token_finds_nothing_anywhere(client):
    boss, clerk, stranger = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    mid = member_id(client, boss, enterprise["id"], clerk)
    own = verified_enterprise(client, stranger)
    base = f"/api/v1/enterprises/{enterprise['id']}"
    for method, path, body in [("get", "", None), ("get", "/code", None), ("get", "/wallet", None),
                               ("get", "/members", None), ("delete", f"/members/{mid}", None),
                               ("post", "/members", {"id_number": stranger["id_number"], "role": "admin",
                                                     "scopes": ["manage-members"]})]:
        response = getattr(client, method)(base + path, json=body, headers=stranger["headers"])
        assert response.status_code == 404 and problem_type(response) == "not-found", (method, path)
    # A member of another enterprise revoked through the stranger's own enterprise: still 404.
    response = client.delete(f"/api/v1/enterprises/{own['id']}/members/{mid}", headers=stranger["headers"])
    assert response.status_code == 404
    assert _get(client, clerk, enterprise["id"]).status_code == 200
    for bad in ("nope", "../x", "a" * 40, "%00"):
        assert _get(client, stranger, bad).status_code == 404


def test_an_unverified_enterprise_delegates_nothing(client):
    founder, clerk = resident(client), resident(client)
    enterprise_id = register_enterprise(client, founder, new_uscc()).json["id"]
    response = add_member(client, founder, enterprise_id, clerk)
    assert response.status_code == 403 and problem_type(response) == "enterprise-not-verified"


def test_the_enterprise_wallet_lists_its_licence(client):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    wallet = _get(client, boss, enterprise["id"] + "/wallet")
    assert wallet.status_code == 200
    [licence] = wallet.json["certificates"]
    assert licence["id"] == enterprise["licence"]["id"] and licence["type"] == "business-licence"
    assert licence["status"] == "valid" and licence["claims"]["uscc"] == enterprise["uscc"]


def test_every_act_is_in_the_audit_chain(client):
    from sqlalchemy import select

    from core.audit import AuditEntry
    from core.extensions import db

    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    mid = member_id(client, boss, enterprise["id"], clerk)
    client.delete(f"/api/v1/enterprises/{enterprise['id']}/members/{mid}", headers=boss["headers"])
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
               if e.refs.get("enterprise") == enterprise["id"]]
    assert actions == ["enterprise-register", "enterprise-verified", "enterprise-member-add",
                       "enterprise-member-revoke"]
