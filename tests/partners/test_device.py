"""Scan-to-login: the device authorization grant (RFC 8628) answered from the phone app,
and the QR code on our own sign-in page."""
import re

from joserfc import jwt
from joserfc.jwk import KeySet

from partners.device import USER_CODE_ALPHABET
from tests.helpers import resident
from tests.partners.support import Browser, authorize_url, basic, exchange, make_partner, pkce, redirect_params

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start(client, partner, scope="openid profile"):
    answer = client.post("/oauth/device_authorization", data={"scope": scope},
                         headers=basic(partner))
    assert answer.status_code == 200, answer.json
    return answer.json


def poll(client, partner, device_code):
    return client.post("/oauth/token", headers=basic(partner),
                       data={"grant_type": DEVICE_GRANT, "device_code": device_code})


def test_user_codes_have_enough_entropy_and_a_readable_shape(app, client):
    partner = make_partner(app)
    codes = {start(client, partner)["user_code"] for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert re.fullmatch(f"[{USER_CODE_ALPHABET}]{{4}}-[{USER_CODE_ALPHABET}]{{4}}", code)


def test_polling_answers_pending_then_slow_down(app, client, clock):
    partner = make_partner(app)
    started = start(client, partner)
    assert started["interval"] == 5 and started["expires_in"] == 600
    assert poll(client, partner, started["device_code"]).json["error"] == "authorization_pending"
    assert poll(client, partner, started["device_code"]).json["error"] == "slow_down"
    clock.shift(11)  # the interval grew to 10 seconds
    assert poll(client, partner, started["device_code"]).json["error"] == "authorization_pending"


def test_a_denied_request_answers_access_denied(app, client):
    person = resident(client)
    partner = make_partner(app)
    started = start(client, partner)
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/deny",
                       headers=person["headers"]).status_code == 204
    assert poll(client, partner, started["device_code"]).json["error"] == "access_denied"
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/approve",
                       headers=person["headers"]).status_code == 404


def test_an_expired_request_answers_expired_token_and_is_gone_for_the_app(app, client, clock):
    person = resident(client)
    partner = make_partner(app)
    started = start(client, partner)
    clock.shift(601)
    assert poll(client, partner, started["device_code"]).json["error"] == "expired_token"
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/approve",
                       headers=person["headers"]).status_code == 404


def test_the_app_sees_partner_scopes_and_code_and_approves_once(app, client):
    person = resident(client)
    partner = make_partner(app, name="Metro Kiosk")
    started = start(client, partner, scope="openid phone")
    code = started["user_code"]
    shown = client.get(f"/api/v1/me/logins/{code.lower().replace('-', ' ')}",
                       headers=person["headers"])
    assert shown.status_code == 200
    assert shown.json["user_code"] == code and shown.json["partner"]["name"] == "Metro Kiosk"
    assert shown.json["scopes"] == ["openid", "phone"]
    assert any("phone" in words for words in shown.json["may_read"])
    url = f"/api/v1/me/logins/{code}/approve"
    assert client.post(url, headers=person["headers"]).status_code == 204
    assert client.post(url, headers=person["headers"]).status_code == 404
    token = poll(client, partner, started["device_code"])
    assert token.status_code == 200 and token.json["id_token"]
    assert poll(client, partner, started["device_code"]).status_code == 400
    assert client.get("/api/v1/me/logins/BCDF-GHJK").status_code == 401


def test_guessing_user_codes_is_throttled(app, client):
    person = resident(client)
    partner = make_partner(app)
    real = start(client, partner)["user_code"]
    for _ in range(10):
        assert client.get("/api/v1/me/logins/BCDF-GHJK", headers=person["headers"]).status_code == 404
    throttled = client.get(f"/api/v1/me/logins/{real}", headers=person["headers"])
    assert throttled.status_code == 429 and throttled.headers["Retry-After"]
    assert client.post(f"/api/v1/me/logins/{real}/approve",
                       headers=person["headers"]).status_code == 429


def test_a_device_code_is_the_polling_clients_alone(app, client):
    partner, other = make_partner(app), make_partner(app, name="Other")
    started = start(client, partner)
    stolen = poll(client, other, started["device_code"])
    assert stolen.status_code == 400 and stolen.json["error"] == "unauthorized_client"


def test_scan_to_login_on_the_sign_in_page(app, client):
    person = resident(client)
    partner = make_partner(app)
    browser = Browser(client)
    verifier, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    html = page.get_data(as_text=True)
    assert "<svg" in html and "<script" not in html
    user_code = re.search(r'class="code">([A-Z]{4}-[A-Z]{4})<', html).group(1)

    waiting = browser.submit(page, "scan")
    assert waiting.status_code == 200 and "Not approved in the app yet" in waiting.get_data(as_text=True)
    shown = client.get(f"/api/v1/me/logins/{user_code}", headers=person["headers"])
    assert shown.json["kind"] == "browser" and shown.json["partner"]["name"] == partner["name"]
    assert client.post(f"/api/v1/me/logins/{user_code}/approve",
                       headers=person["headers"]).status_code == 204

    # Approving in the app showed what the partner asks for, so it is the consent too.
    params = redirect_params(browser.submit(waiting, "scan"))
    token = exchange(client, partner, params["code"], verifier)
    assert token.status_code == 200
    keys = KeySet.import_key_set(client.get("/oauth/jwks").json)
    assert jwt.decode(token.json["id_token"], keys).claims["amr"] == ["swk"]


def test_a_scan_declined_in_the_app_signs_nobody_in(app, client):
    person = resident(client)
    partner = make_partner(app)
    browser = Browser(client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    user_code = re.search(r'class="code">([A-Z]{4}-[A-Z]{4})<', page.get_data(as_text=True)).group(1)
    client.post(f"/api/v1/me/logins/{user_code}/deny", headers=person["headers"])
    declined = browser.submit(page, "scan")
    assert declined.status_code == 200 and "declined" in declined.get_data(as_text=True)
    assert 'value="login"' in declined.get_data(as_text=True)
