"""The phone app's home in one round trip, with a fixed number of SQL statements; notices."""
from __future__ import annotations

from tests.catalog.support import load_sample_catalogue, make_publisher, my_notices, publish
from tests.codes.support import make_service_point, my_code, scan
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]


def _card(holder, n):
    return {"name": holder["name"], "id_number": holder["id_number"], "card_number": f"M{n:06d}", "city": "北京"}


def _home(client, holder):
    response = client.get("/api/v1/me/home", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def test_home_shows_everything_in_one_response(client, clock):
    load_sample_catalogue()
    police = make_issuer(client, "市公安局", ("resident-id", "household-register"))
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    holder = resident(client, name="王建国")
    issued(client, police, holder, claims=resident_id_claims(holder, name="王建国", birthdate="1950-01-01"))
    issued(client, hr, holder, "social-security-card", _card(holder, 1))
    policy = publish(client, make_publisher(client), SENIORS).json
    application = client.post("/api/v1/me/applications", json={"bundle": "retirement"},
                              headers=holder["headers"]).json
    hall = make_service_point(client, "市民服务中心")
    scan_id = scan(client, hall, my_code(client, holder)["code"]).json["scan_id"]
    client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]}, headers=hall["headers"])

    home = _home(client, holder)
    assert home["profile"]["name"] == "王建国" and home["profile"]["id_number"].startswith("110")
    assert "*" in home["profile"]["id_number"]
    assert home["code"]["code"].startswith("OC1:") and home["code"]["expires_at"]
    [card] = home["cards"]
    assert card["type"] == "social-security-card" and card["status"] == "valid"
    assert card["summary"]["card_number"] != "M000001"  # masked
    assert home["certificate_count"] == 1
    [consent] = home["pending_consents"]
    assert consent["service_point"] == {"name": "市民服务中心"} and consent["types"] == ["resident-id"]
    [in_progress] = home["applications"]
    assert in_progress["id"] == application["id"] and in_progress["name"] == "退休一件事"
    assert in_progress["status"] == "draft"
    [found] = home["policies"]
    assert found["id"] == policy["id"] and found["status"] == "found"
    [recent] = home["recent_scans"]
    assert recent["scan_id"] == scan_id and recent["service_point"] == {"name": "市民服务中心"}
    # the two credentials issued and the policy found (all at the same frozen moment)
    assert sorted(n["kind"] for n in home["notices"]) == ["credential", "credential", "policy"]
    assert home["unread_notices"] == 3


def test_home_runs_the_same_number_of_queries_whatever_the_wallet_holds(client, clock, count_queries, app,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 0)  # build every time (test_home_cache: a cached home runs none)
    police = make_issuer(client, "市公安局", ("resident-id", "household-register"))
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    small, large = resident(client), resident(client)
    issued(client, police, small)
    issued(client, police, large)
    for n in range(10):
        issued(client, hr, large, "social-security-card", _card(large, n))
        issued(client, police, large, "household-register", {
            "name": large["name"], "id_number": large["id_number"], "household_head": large["name"],
            "relation_to_head": "本人", "address": f"北京市西城区{n}号"})
    _home(client, small)  # warm up: the first signing key
    _home(client, large)

    with count_queries() as one:
        small_home = _home(client, small)
    with count_queries() as twenty:
        large_home = _home(client, large)
    assert small_home["certificate_count"] == 1 and small_home["cards"] == []
    assert large_home["certificate_count"] == 11 and len(large_home["cards"]) == 10
    assert one.n == twenty.n, (one.statements, twenty.statements)
    assert one.n <= 9, "\n".join(s[:60] for s in one.statements)


def test_notices_are_listed_and_marked_read(client, clock):
    police = make_issuer(client, "市公安局", ("resident-id", "household-register"))
    holder = resident(client)
    publish(client, make_publisher(client), SENIORS, name="高龄津贴")
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1950-01-01"))
    [notice] = my_notices(client, holder)
    assert notice["read_at"] is None and notice["kind"] == "policy"
    assert my_notices(client, holder, unread="true") == [notice]
    clock.shift(30)
    read = client.post(f"/api/v1/me/notices/{notice['id']}/read", headers=holder["headers"])
    assert read.status_code == 204
    assert client.post(f"/api/v1/me/notices/{notice['id']}/read", headers=holder["headers"]).status_code == 204
    assert my_notices(client, holder)[0]["read_at"] == "2026-11-25T09:00:30Z"
    assert my_notices(client, holder, unread="true") == []
    assert _home(client, holder)["unread_notices"] == 1  # the credential issued, still unread

    other = resident(client)
    assert client.post(f"/api/v1/me/notices/{notice['id']}/read", headers=other["headers"]).status_code == 404
    for bad in ("nope", "%00", "x" * 300):
        assert client.post(f"/api/v1/me/notices/{bad}/read", headers=other["headers"]).status_code == 404
    assert my_notices(client, other) == []
    for query in ({"limit": 0}, {"limit": "many"}, {"unread": "perhaps"}):
        assert client.get("/api/v1/me/notices", query_string=query,
                          headers=holder["headers"]).status_code == 422
    assert client.get("/api/v1/me/home").status_code == 401
