"""The catalogue's part of the demo seed: items, bundles and a policy found for the demo
resident it holds for, idempotent."""
from __future__ import annotations

import json

from tests.helpers import auth_headers, login


def test_the_demo_seed_loads_the_catalogue_and_finds_the_demo_policy(client, runner, clock):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    out = json.loads(again.output[again.output.index("{"):])
    catalogue = out["catalogue"]
    assert catalogue["service_items"] >= 12 and catalogue["bundles"] >= 4
    publisher = catalogue["policy_publisher"]
    token = client.post("/api/v1/issuers/token", json={"client_id": publisher["client_id"],
                                                       "client_secret": publisher["client_secret"]})
    assert token.status_code == 200

    departments = {i["department"] for i in client.get("/api/v1/service-items").json}
    assert len(departments) >= 5
    by_name = {r["name"]: r for r in out["residents"]}
    elder, young = by_name["王建国"], by_name["赵敏"]  # born 1960 and 2001
    found = {}
    for person in (elder, young):
        headers = auth_headers(login(client, person["username"], person["password"])["access_token"])
        found[person["name"]] = client.get("/api/v1/me/policies", headers=headers).json
    assert [p["name"] for p in found["王建国"]] == ["高龄津贴"] and found["赵敏"] == []
