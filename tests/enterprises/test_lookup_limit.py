"""Delegating to an ID number tells whether it is registered: limited per account, in one
budget with proxy invitations."""
from __future__ import annotations

from tests.codes.support import problem_type
from tests.enterprises.support import add_member, verified_enterprise
from tests.helpers import resident, valid_id_number


def _unknown(n: int) -> dict:
    # Valid ID numbers of a birth date that no test registers.
    return {"id_number": valid_id_number(n, "19530101")}


def _members(client, boss, enterprise_id) -> list:
    response = client.get(f"/api/v1/enterprises/{enterprise_id}/members", headers=boss["headers"])
    assert response.status_code == 200, response.json
    return response.json


def test_delegating_by_id_number_is_limited_per_account(client, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "ID_NUMBER_LOOKUPS_PER_ACCOUNT", 3)
    window = app.config["ID_NUMBER_LOOKUP_WINDOW_SECONDS"]  # the test clock stands at a window's start
    boss, clerk, other_boss = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)["id"]
    for n in range(3):
        response = add_member(client, boss, enterprise, _unknown(n))
        assert response.status_code == 422 and "id_number" in response.json["errors"]

    limited = add_member(client, boss, enterprise, clerk)
    assert limited.status_code == 429 and problem_type(limited) == "too-many-attempts"
    assert int(limited.headers["Retry-After"]) == window
    assert len(_members(client, boss, enterprise)) == 1  # the clerk was not added
    # The same budget as proxy invitations.
    invited = client.post("/api/v1/me/proxies", json={"id_number": clerk["id_number"], "relation": "other"},
                          headers=boss["headers"])
    assert invited.status_code == 429 and problem_type(invited) == "too-many-attempts"

    # Another legal representative is not affected.
    elsewhere = verified_enterprise(client, other_boss)["id"]
    assert add_member(client, other_boss, elsewhere, clerk).status_code == 201

    clock.shift(window)
    assert add_member(client, boss, enterprise, clerk).status_code == 201
    assert len(_members(client, boss, enterprise)) == 2


def test_a_hit_counts_like_a_miss(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ID_NUMBER_LOOKUPS_PER_ACCOUNT", 2)
    boss, clerk, cashier = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)["id"]
    assert add_member(client, boss, enterprise, clerk).status_code == 201
    again = add_member(client, boss, enterprise, clerk)  # found, and already a member
    assert again.status_code == 409 and problem_type(again) == "already-member"
    refused = add_member(client, boss, enterprise, cashier)
    assert refused.status_code == 429 and problem_type(refused) == "too-many-attempts"
