"""An operator disables a partner app: its tokens, codes and device codes stop at once, and it
cannot authenticate; enabling it again lets it sign people in afresh while everything it held
before stays dead."""
import json

import pytest

from tests.helpers import resident
from tests.partners.support import Browser, basic, exchange, get_code, make_partner

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def held(app, client):
    """A partner with what it holds: a token pair, an unspent code, an approved device code
    and a pending scan-to-login, for one resident."""
    person = resident(client)
    partner = make_partner(app)
    browser = Browser(client)
    code, verifier, _ = get_code(browser, partner, person)
    tokens = exchange(client, partner, code, verifier).json
    assert "access_token" in tokens, tokens
    unspent = get_code(browser, partner, person)
    approved = _device(client, partner)
    assert client.post(f"/api/v1/me/logins/{approved['user_code']}/approve",
                       headers=person["headers"]).status_code == 204
    pending = _device(client, partner)
    return {"person": person, "partner": partner, "browser": browser, "tokens": tokens,
            "code": unspent[:2], "approved": approved, "pending": pending}


def _device(client, partner):
    started = client.post("/oauth/device_authorization", data={"scope": "openid profile"},
                          headers=basic(partner))
    assert started.status_code == 200, started.json
    return started.json


def _refresh(client, partner, refresh_token):
    return client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": refresh_token})


def _poll(client, partner, device_code):
    return client.post("/oauth/token", headers=basic(partner),
                       data={"grant_type": DEVICE_GRANT, "device_code": device_code})


def _userinfo(client, access_token):
    return client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def _introspect(client, partner, token):
    return client.post("/oauth/introspect", data={"token": token}, headers=basic(partner))


def _switch(runner, action, partner):
    result = runner.invoke(args=["partner", action, partner["client_id"]])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _assert_invalid_client(answer):
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert answer.json["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_disabled_partner_is_refused_everywhere_at_once(app, client, runner, held):
    partner, tokens, person = held["partner"], held["tokens"], held["person"]
    assert _switch(runner, "disable", partner) == {"client_id": partner["client_id"],
                                                   "active": False}

    code, verifier = held["code"]
    _assert_invalid_client(exchange(client, partner, code, verifier))
    _assert_invalid_client(_refresh(client, partner, tokens["refresh_token"]))
    _assert_invalid_client(_poll(client, partner, held["approved"]["device_code"]))
    _assert_invalid_client(client.post("/oauth/device_authorization", data={"scope": "openid"},
                                       headers=basic(partner)))
    _assert_invalid_client(_introspect(client, partner, tokens["access_token"]))
    _assert_invalid_client(client.post("/oauth/revoke", data={"token": tokens["refresh_token"]},
                                       headers=basic(partner)))
    userinfo = _userinfo(client, tokens["access_token"])
    assert userinfo.status_code == 401 and userinfo.json["error"] == "invalid_token"
    assert 'error="invalid_token"' in userinfo.headers["WWW-Authenticate"]
    # The phone app no longer shows its pending scan-to-login, and no sign-in page starts.
    assert client.get(f"/api/v1/me/logins/{held['pending']['user_code']}",
                      headers=person["headers"]).status_code == 404
    page = held["browser"].open(f"/oauth/authorize?response_type=code&client_id="
                                f"{partner['client_id']}&redirect_uri=https://partner.example/"
                                f"callback&scope=openid&code_challenge={'a' * 43}"
                                f"&code_challenge_method=S256")
    assert page.status_code == 400 and "Location" not in page.headers


def test_enabled_again_it_signs_people_in_afresh_and_what_it_held_stays_dead(app, client, runner,
                                                                              held):
    partner, tokens, person = held["partner"], held["tokens"], held["person"]
    _switch(runner, "disable", partner)
    assert _switch(runner, "enable", partner)["active"] is True

    assert _userinfo(client, tokens["access_token"]).status_code == 401
    assert _introspect(client, partner, tokens["access_token"]).json == {"active": False}
    assert _introspect(client, partner, tokens["refresh_token"]).json == {"active": False}
    assert _refresh(client, partner, tokens["refresh_token"]).json["error"] == "invalid_grant"
    code, verifier = held["code"]
    assert exchange(client, partner, code, verifier).json["error"] == "invalid_grant"
    assert _poll(client, partner, held["approved"]["device_code"]).json["error"] == "expired_token"
    assert client.get(f"/api/v1/me/logins/{held['pending']['user_code']}",
                      headers=person["headers"]).status_code == 404

    code, verifier, _ = get_code(held["browser"], partner, person)
    fresh = exchange(client, partner, code, verifier)
    assert fresh.status_code == 200, fresh.json
    assert _userinfo(client, fresh.json["access_token"]).status_code == 200
    assert _introspect(client, partner, fresh.json["access_token"]).json["active"] is True
    renewed = _refresh(client, partner, fresh.json["refresh_token"])
    assert renewed.status_code == 200, renewed.json
    started = _device(client, partner)
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/approve",
                       headers=person["headers"]).status_code == 204
    assert _poll(client, partner, started["device_code"]).status_code == 200


def test_an_unknown_partner_is_a_clear_error(runner):
    for action in ("disable", "enable"):
        result = runner.invoke(args=["partner", action, "AAAAAAAAAAAAAAAAAAAAAA"])
        assert result.exit_code != 0
        assert "no partner app has this client id" in result.output


def test_a_disabled_partner_answers_like_an_unknown_one(app, client, runner):
    partner = make_partner(app)
    _switch(runner, "disable", partner)
    unknown = dict(partner, client_id="AAAAAAAAAAAAAAAAAAAAAA")
    for path, data in (("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}),
                       ("/oauth/device_authorization", {"scope": "openid"})):
        off = client.post(path, data=data, headers=basic(partner))
        nobody = client.post(path, data=data, headers=basic(unknown))
        assert (off.status_code, off.json, off.headers["WWW-Authenticate"]) == (
            nobody.status_code, nobody.json, nobody.headers["WWW-Authenticate"])
        _assert_invalid_client(off)
