"""The home screen comes from a per-person cache, and nothing a person would see is ever stale:
each kind of change shows on the very next home, their own or someone else's, and time alone
(a card or a request expiring, a policy ending) does too. A cached home runs no SQL."""
from __future__ import annotations

from datetime import timedelta

from tests.catalog.support import load_sample_catalogue, make_publisher, my_notices, publish, read_credential_notices
from tests.codes.support import make_service_point, my_code, scan
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]


def _home(client, holder):
    response = client.get("/api/v1/me/home", headers=holder["headers"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.json


def _cached(client, holder, count_queries):
    """Home twice: the second answer is the cache's (no SQL at all), and the same."""
    first = _home(client, holder)
    with count_queries() as queries:
        second = _home(client, holder)
    assert queries.n == 0, queries.statements
    assert second == first
    return second


def _card(holder, n=1):
    return {"name": holder["name"], "id_number": holder["id_number"], "card_number": f"M{n:06d}", "city": "北京"}


def _request(client, hall, code, types=("resident-id",)):
    scan_id = scan(client, hall, code).json["scan_id"]
    response = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": list(types)},
                           headers=hall["headers"])
    assert response.status_code == 201, response.json
    return response.json


def test_a_cached_home_runs_no_sql_and_keeps_its_code_current(client, clock, count_queries, app):
    holder = resident(client)
    home = _cached(client, holder, count_queries)
    assert home["code"] == my_code(client, holder)
    clock.shift(app.config["CODE_TTL_SECONDS"])
    later = _home(client, holder)
    assert later["code"]["code"] != home["code"]["code"]
    assert {k: v for k, v in later.items() if k != "code"} == {k: v for k, v in home.items() if k != "code"}


def test_a_scan_shows_at_once_with_a_new_code(client, clock, count_queries):
    holder = resident(client)
    hall = make_service_point(client, "市民服务中心")
    home = _cached(client, holder, count_queries)
    scan_id = scan(client, hall, home["code"]["code"]).json["scan_id"]
    after = _home(client, holder)
    assert [s["scan_id"] for s in after["recent_scans"]] == [scan_id]
    assert after["code"]["code"] != home["code"]["code"]


def test_issuing_and_revoking_show_at_once(client, clock, count_queries):
    police = make_issuer(client, "市公安局", ("resident-id",))
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    holder = resident(client)
    assert _cached(client, holder, count_queries)["cards"] == []
    card = issued(client, hr, holder, "social-security-card", _card(holder))
    [shown] = _cached(client, holder, count_queries)["cards"]
    assert shown["id"] == card["id"] and shown["status"] == "valid"
    issued(client, police, holder, claims=resident_id_claims(holder))
    home = _cached(client, holder, count_queries)
    assert home["certificate_count"] == 1
    assert home["profile"]["assurance_level"] == 2
    revoked = client.post(f"/api/v1/issuer/credentials/{card['id']}/revoke", json={"reason": "lost"},
                          headers=hr["headers"])
    assert revoked.status_code in (200, 204), revoked.json
    assert _home(client, holder)["cards"][0]["status"] == "revoked"


def test_a_card_expires_and_starts_on_time_without_a_write(client, clock, count_queries, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)  # longer than every moment here
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    holder = resident(client)
    issued(client, hr, holder, "social-security-card", _card(holder, 1), valid_until="2026-11-25T09:04:00Z")
    issued(client, hr, holder, "social-security-card", _card(holder, 2), valid_from="2026-11-25T09:02:00Z")
    statuses = lambda home: sorted(c["status"] for c in home["cards"])  # noqa: E731
    assert statuses(_cached(client, holder, count_queries)) == ["not-yet-valid", "valid"]
    clock.shift(121)
    assert statuses(_cached(client, holder, count_queries)) == ["valid", "valid"]
    clock.shift(120)
    assert statuses(_home(client, holder)) == ["expired", "valid"]


def test_consent_requests_show_and_leave_when_answered_or_expired(client, clock, count_queries, app,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)  # longer than a request lives
    holder = resident(client)
    hall = make_service_point(client, "市民服务中心")
    _cached(client, holder, count_queries)
    _request(client, hall, my_code(client, holder)["code"])
    [pending] = _cached(client, holder, count_queries)["pending_consents"]
    assert pending["service_point"] == {"name": "市民服务中心"}
    assert client.post(f"/api/v1/me/consents/{pending['id']}/deny", headers=holder["headers"]).status_code == 204
    assert _cached(client, holder, count_queries)["pending_consents"] == []
    _request(client, hall, my_code(client, holder)["code"])
    assert len(_cached(client, holder, count_queries)["pending_consents"]) == 1
    clock.shift(app.config["MATERIAL_REQUEST_TTL_SECONDS"])
    assert _home(client, holder)["pending_consents"] == []


def test_a_proxy_sees_the_principals_requests_on_their_own_home(client, clock, count_queries):
    son, mother = resident(client), resident(client, name="李秀英")
    invited = client.post("/api/v1/me/proxies", json={"id_number": mother["id_number"], "relation": "parent"},
                          headers=son["headers"]).json
    assert _cached(client, son, count_queries)["pending_consents"] == []
    assert client.post(f"/api/v1/me/proxies/{invited['id']}/accept", headers=mother["headers"]).status_code == 200
    hall = make_service_point(client)
    _cached(client, son, count_queries)
    request = _request(client, hall, my_code(client, mother)["code"])
    [pending] = _cached(client, son, count_queries)["pending_consents"]
    assert pending["request_id"] == request["request_id"]
    # The mother answers: gone from the son's home too.
    assert client.post(f"/api/v1/me/consents/{pending['id']}/approve", headers=mother["headers"]).status_code == 204
    assert _cached(client, son, count_queries)["pending_consents"] == []
    # Ended: her next request is hers alone.
    _request(client, hall, my_code(client, mother)["code"])
    assert len(_cached(client, son, count_queries)["pending_consents"]) == 1
    assert client.delete(f"/api/v1/me/proxies/{invited['id']}", headers=mother["headers"]).status_code in (200, 204)
    assert _home(client, son)["pending_consents"] == []


def test_an_enterprises_request_reaches_its_consent_members_and_leaves_with_the_membership(
        client, clock, count_queries, app, monkeypatch):
    from tests.enterprises.support import member_id, verified_enterprise

    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)
    boss, signer = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    assert _cached(client, signer, count_queries)["pending_consents"] == []
    member_id(client, boss, enterprise["id"], signer, scopes=["consent"], expires_at="2026-11-25T09:02:00Z")
    assert _cached(client, signer, count_queries)["pending_consents"] == []
    code = client.get(f"/api/v1/enterprises/{enterprise['id']}/code", headers=boss["headers"]).json["code"]
    request = _request(client, make_service_point(client), code, types=("business-licence",))
    [pending] = _cached(client, signer, count_queries)["pending_consents"]
    assert pending["request_id"] == request["request_id"]
    clock.shift(121)  # the membership ends; the request would live three more minutes
    assert _home(client, signer)["pending_consents"] == []


def test_policies_notices_and_applications_show_at_once(client, clock, count_queries, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)  # longer than the policy lasts
    load_sample_catalogue()
    police = make_issuer(client, "市公安局", ("resident-id",))
    holder = resident(client)
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1950-01-01"))
    read_credential_notices(client, holder)
    assert _cached(client, holder, count_queries)["policies"] == []
    # Published after the credential: the policy's own evaluation finds the holder.
    policy = publish(client, make_publisher(client), SENIORS, valid_until="2026-11-25T09:10:00Z").json
    home = _cached(client, holder, count_queries)
    assert [p["id"] for p in home["policies"]] == [policy["id"]] and home["unread_notices"] == 1
    assert client.post(f"/api/v1/me/policies/{policy['id']}/accept", headers=holder["headers"]).status_code == 200
    assert _cached(client, holder, count_queries)["policies"][0]["status"] == "accepted"
    [notice] = my_notices(client, holder)
    assert client.post(f"/api/v1/me/notices/{notice['id']}/read", headers=holder["headers"]).status_code == 204
    assert _cached(client, holder, count_queries)["unread_notices"] == 0
    application = client.post("/api/v1/me/applications", json={"bundle": "retirement"},
                              headers=holder["headers"]).json
    assert [a["id"] for a in _cached(client, holder, count_queries)["applications"]] == [application["id"]]
    # The policy ends: it leaves the home with no write.
    clock.shift(timedelta(minutes=10))
    assert _home(client, holder)["policies"] == []


def test_a_policy_found_by_the_daily_evaluation_shows_at_once(client, clock, count_queries, app,
                                                              monkeypatch, runner):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)
    monkeypatch.setitem(app.config, "ACCESS_TOKEN_SECONDS", 12 * 3600)  # no new sign-in on the way
    police = make_issuer(client, "市公安局", ("resident-id",))
    policy = publish(client, make_publisher(client), SENIORS).json
    holder = resident(client)  # 60 on 26 November in China, which begins at 16:00 UTC on the 25th
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1966-11-26"))
    read_credential_notices(client, holder)
    clock.shift(timedelta(hours=6, minutes=59))
    assert _cached(client, holder, count_queries)["policies"] == []
    clock.shift(60)
    assert runner.invoke(args=["catalog", "evaluate-policies"]).exit_code == 0
    home = _home(client, holder)
    assert [p["id"] for p in home["policies"]] == [policy["id"]] and home["unread_notices"] == 1


def test_a_policy_lapsed_by_the_daily_evaluation_leaves_at_once(client, clock, count_queries, app,
                                                                monkeypatch, runner):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)
    monkeypatch.setitem(app.config, "ACCESS_TOKEN_SECONDS", 12 * 3600)
    police = make_issuer(client, "市公安局", ("resident-id",))
    under_sixty = [{"credential": "resident-id", "claim": "birthdate", "op": "age_lte", "value": 59}]
    policy = publish(client, make_publisher(client), under_sixty, name="中青年补贴").json
    holder = resident(client)  # 60 at 16:00 UTC today, as in the test above
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1966-11-26"))
    read_credential_notices(client, holder)
    clock.shift(timedelta(hours=6, minutes=59))
    assert [p["id"] for p in _cached(client, holder, count_queries)["policies"]] == [policy["id"]]
    clock.shift(60)
    assert runner.invoke(args=["catalog", "evaluate-policies"]).exit_code == 0
    assert _home(client, holder)["policies"] == []


def test_a_catalogue_change_reaches_every_cached_home(client, clock, count_queries):
    import yaml

    from core.extensions import db
    from catalog.cli import load_catalogue
    from catalog.demo import SAMPLE

    load_sample_catalogue()
    holder = resident(client)
    client.post("/api/v1/me/applications", json={"bundle": "retirement"}, headers=holder["headers"])
    assert _cached(client, holder, count_queries)["applications"][0]["name"] == "退休一件事"
    catalogue = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    [bundle] = [b for b in catalogue["bundles"] if b["code"] == "retirement"]
    bundle["name"] = "退休办理一件事"
    load_catalogue(catalogue)
    db.session.commit()
    assert _home(client, holder)["applications"][0]["name"] == "退休办理一件事"


def test_a_profile_change_shows_at_once(client, clock, count_queries):
    import pyotp

    holder = resident(client)
    assert _cached(client, holder, count_queries)["profile"]["totp_enabled"] is False
    secret = client.post("/api/v1/auth/totp", headers=holder["headers"]).json["secret"]
    confirmed = client.post("/api/v1/auth/totp/confirm", json={"otp": pyotp.TOTP(secret).now()},
                            headers=holder["headers"])
    assert confirmed.status_code in (200, 204), confirmed.json
    assert _home(client, holder)["profile"]["totp_enabled"] is True


def test_a_cached_home_ends_with_its_sign_in(client, clock, count_queries):
    holder = resident(client)
    _cached(client, holder, count_queries)
    assert client.post("/api/v1/auth/logout", headers=holder["headers"]).status_code == 204
    response = client.get("/api/v1/me/home", headers=holder["headers"])
    assert response.status_code == 401 and response.json["type"].endswith("/token-revoked")


def test_with_the_cache_off_every_home_is_built(client, clock, count_queries, app, monkeypatch):
    holder = resident(client)
    _home(client, holder)  # cached while the cache was on: no longer used
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 0)
    with count_queries() as queries:
        _home(client, holder)
    assert queries.n > 0


def test_a_cache_entry_that_does_not_parse_is_built_again(client, clock):
    from core.store import redis_client
    from mobile_api.home import entry_key

    holder = resident(client)
    key = entry_key(holder["profile"]["id"])
    for garbage in (b"no header at all", b"\xff\xfe|x|y\n{}", b"a|b|not-a-time|h\n{}", b"-|-|9e99|\n{}"):
        redis_client().set(key, garbage)
        home = _home(client, holder)
        assert home["profile"]["id"] == holder["profile"]["id"]
        assert redis_client().get(key) != garbage  # overwritten by the screen just built


def test_a_redis_that_refuses_the_write_still_gets_an_answer(client, clock, monkeypatch, caplog):
    import logging

    import redis

    from mobile_api import home as home_screen

    class ReadOnly:  # the home module writes its entries, and nothing else, through it
        def set(self, *args, **kwargs):
            raise redis.ReadOnlyError("READONLY You can't write against a read only replica.")

    monkeypatch.setattr(home_screen, "redis_client", ReadOnly)
    holder = resident(client)
    with caplog.at_level(logging.WARNING, logger="mobile_api.home"):
        assert _home(client, holder)["profile"]["id"] == holder["profile"]["id"]
    assert "home screen not cached" in caplog.text


def test_a_token_without_the_holder_index_gets_its_home_built_every_time(client, clock, count_queries):
    # Tokens issued before the holder index joined their claims cannot name that stamp.
    from core.extensions import db
    from core.tokens import start_session
    from identity.models import Person
    from identity.service import resident_claims
    from tests.helpers import auth_headers

    holder = resident(client)
    person = db.session.get(Person, holder["profile"]["id"])
    claims = {k: v for k, v in resident_claims(person).items() if k != "hx"}
    old = {**holder, "headers": auth_headers(start_session(person.id, claims)["access_token"])}
    first = _home(client, old)
    with count_queries() as queries:
        second = _home(client, old)
    assert queries.n > 0
    assert second["profile"] == first["profile"] == _home(client, holder)["profile"]
