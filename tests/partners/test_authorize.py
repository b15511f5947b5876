"""The authorization endpoint and the token endpoint against the OpenID Connect basic-OP
checks that apply, RFC 9700's PKCE rules, and the sign-in and consent pages."""
from datetime import timedelta

import pyotp
from joserfc import jwt
from joserfc.jwk import KeySet

from core import clock as app_clock
from core.extensions import db
from partners.models import AuthorizationCode, digest
from partners.subjects import resolve_subject
from tests.conftest import START
from tests.helpers import login, resident
from tests.partners.support import (
    ISSUER,
    REDIRECT_URI,
    Browser,
    authorize_url,
    basic,
    exchange,
    form_with,
    get_code,
    make_partner,
    pkce,
    redirect_params,
)


def id_claims(client, id_token):
    keys = KeySet.import_key_set(client.get("/oauth/jwks").json)
    decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    return decoded.claims


def signed_in(app, client, **partner_kwargs):
    person = resident(client)
    partner = make_partner(app, **partner_kwargs)
    return person, partner, Browser(client)


def test_a_code_works_once_and_its_reuse_revokes_what_it_gave(app, client):
    person, partner, browser = signed_in(app, client)
    code, verifier, params = get_code(browser, partner, person)
    assert params["iss"] == ISSUER
    first = exchange(client, partner, code, verifier)
    assert first.status_code == 200
    again = exchange(client, partner, code, verifier)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    access = first.json["access_token"]
    assert client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    refreshed = client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": first.json["refresh_token"]})
    assert refreshed.json["error"] == "invalid_grant"


def test_a_code_is_short_lived_and_bound_to_its_client_and_redirect_uri(app, client, clock):
    person, partner, browser = signed_in(app, client)
    other = make_partner(app, name="Other")
    code, verifier, _ = get_code(browser, partner, person)
    assert exchange(client, other, code, verifier).json["error"] == "invalid_grant"
    wrong_uri = exchange(client, partner, code, verifier, redirect_uri=REDIRECT_URI + "/x")
    assert wrong_uri.json["error"] == "invalid_grant"
    code, verifier, _ = get_code(browser, partner, person)
    clock.shift(61)
    assert exchange(client, partner, code, verifier).json["error"] == "invalid_grant"


def test_an_unregistered_or_missing_redirect_uri_gets_a_page_never_a_redirect(app, client):
    _, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    for redirect_uri in ("https://evil.example/callback", REDIRECT_URI + "?x=1", None):
        page = browser.open(authorize_url(partner, challenge=challenge, redirect_uri=redirect_uri))
        assert page.status_code == 400 and "Location" not in page.headers
        assert page.mimetype == "text/html"
    unknown = browser.open(authorize_url({"client_id": "nobody"}, challenge=challenge))
    assert unknown.status_code == 400 and "Location" not in unknown.headers


def test_no_implicit_or_hybrid_flow(app, client):
    _, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    for response_type in ("token", "id_token", "code id_token", "code token"):
        answer = browser.open(authorize_url(partner, challenge=challenge,
                                            response_type=response_type))
        params = redirect_params(answer)
        assert params["error"] == "unsupported_response_type" and params["iss"] == ISSUER
    discovery = client.get("/.well-known/openid-configuration").json
    assert discovery["response_types_supported"] == ["code"]


def test_nonce_state_auth_time_and_acr_in_the_id_token(app, client, clock):
    person, partner, browser = signed_in(app, client)
    code, verifier, params = get_code(browser, partner, person, nonce="the-nonce-42",
                                      state="the-state")
    assert params["state"] == "the-state"
    claims = id_claims(client, exchange(client, partner, code, verifier).json["id_token"])
    assert claims["nonce"] == "the-nonce-42"
    assert claims["auth_time"] == int(START.timestamp())
    assert claims["acr"] == "1" and claims["iss"] == ISSUER and claims["aud"] == partner["client_id"]
    assert claims["exp"] > claims["iat"]


def test_id_tokens_are_always_signed_rs256_never_none(app, client):
    person, partner, browser = signed_in(app, client)
    discovery = client.get("/.well-known/openid-configuration").json
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    code, verifier, _ = get_code(browser, partner, person, id_token_signed_response_alg="none")
    id_token = exchange(client, partner, code, verifier).json["id_token"]
    assert id_token.count(".") == 2 and not id_token.endswith(".")
    assert id_claims(client, id_token)["sub"]
    keys = client.get("/oauth/jwks").json["keys"]
    assert keys and all(k["kty"] == "RSA" and "d" not in k for k in keys)


def test_prompt_none_without_a_session_answers_login_required(app, client):
    _, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    params = redirect_params(browser.open(authorize_url(partner, challenge=challenge,
                                                        prompt="none", state="s1")))
    assert params == {"error": "login_required", "state": "s1", "iss": ISSUER}


def test_prompt_none_with_a_session_and_consent_answers_at_once(app, client):
    person, partner, browser = signed_in(app, client)
    get_code(browser, partner, person)
    verifier, challenge = pkce()
    params = redirect_params(browser.open(authorize_url(partner, challenge=challenge,
                                                        prompt="none")))
    assert exchange(client, partner, params["code"], verifier).status_code == 200
    other = make_partner(app, name="Not yet allowed")
    params = redirect_params(browser.open(authorize_url(other, challenge=challenge,
                                                        prompt="none")))
    assert params["error"] == "consent_required"


def test_max_age_asks_for_a_fresh_sign_in(app, client, clock):
    person, partner, browser = signed_in(app, client)
    get_code(browser, partner, person)
    clock.shift(120)
    verifier, challenge = pkce()
    params = redirect_params(browser.open(authorize_url(partner, challenge=challenge,
                                                        prompt="none", max_age="60")))
    assert params["error"] == "login_required"
    page = browser.open(authorize_url(partner, challenge=challenge, max_age="60"))
    assert page.status_code == 200 and 'value="login"' in page.get_data(as_text=True)
    answer = browser.sign_in(page, person["phone"], person["password"])
    code = redirect_params(answer)["code"]  # consent is remembered
    claims = id_claims(client, exchange(client, partner, code, verifier).json["id_token"])
    assert claims["auth_time"] == int(START.timestamp()) + 120
    fresh = redirect_params(browser.open(authorize_url(partner, challenge=challenge,
                                                       max_age="60")))
    assert "code" in fresh


def test_prompt_login_asks_again_even_with_a_session(app, client):
    person, partner, browser = signed_in(app, client)
    get_code(browser, partner, person)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge, prompt="login"))
    assert page.status_code == 200 and 'value="login"' in page.get_data(as_text=True)
    assert "code" in redirect_params(browser.sign_in(page, person["phone"], person["password"]))


def test_pkce_is_required_and_s256_only(app, client):
    person, partner, browser = signed_in(app, client)
    verifier, challenge = pkce()
    plain = browser.open(authorize_url(partner, code_challenge=verifier,
                                       code_challenge_method="plain"))
    assert redirect_params(plain)["error"] == "invalid_request"
    default_plain = browser.open(authorize_url(partner, code_challenge=verifier))
    assert redirect_params(default_plain)["error"] == "invalid_request"
    missing = browser.open(authorize_url(partner))
    assert redirect_params(missing)["error"] == "invalid_request"

    code, verifier, _ = get_code(browser, partner, person)
    no_verifier = exchange(client, partner, code, None)
    assert no_verifier.json["error"] == "invalid_request"
    code, verifier, _ = get_code(browser, partner, person)
    wrong = exchange(client, partner, code, pkce()[0])
    assert wrong.json["error"] == "invalid_grant"


def test_a_verifier_without_a_challenge_is_refused(app, client):
    person, partner, _ = signed_in(app, client)
    # A code from before PKCE was required, made as the store would hold it.
    db.session.add(AuthorizationCode(
        code_hash=digest("legacy-code"), client_id=partner["client_id"],
        person_id=person["profile"]["id"], redirect_uri=REDIRECT_URI, scope="openid",
        code_challenge="", code_challenge_method="", auth_time=0, acr="1", amr="pwd",
        expires_at=app_clock.now() + timedelta(seconds=30)))
    db.session.commit()
    answer = exchange(client, partner, "legacy-code", pkce()[0])
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


def test_denying_is_as_easy_as_allowing(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge, state="s2"))
    page = browser.sign_in(page, person["phone"], person["password"])
    consent = form_with(page.get_data(as_text=True), "consent")
    assert ("decision", "allow") in consent["buttons"] and ("decision", "deny") in consent["buttons"]
    assert partner["name"] in page.get_data(as_text=True)
    params = redirect_params(browser.consent(page, allow=False))
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "s2", ISSUER)


def test_consent_is_remembered_per_partner_and_scope(app, client):
    person, partner, browser = signed_in(app, client)
    get_code(browser, partner, person, scope="openid profile")
    _, challenge = pkce()
    assert "code" in redirect_params(browser.open(
        authorize_url(partner, scope="openid profile", challenge=challenge)))
    more = browser.open(authorize_url(partner, scope="openid profile phone", challenge=challenge))
    assert more.status_code == 200 and 'value="consent"' in more.get_data(as_text=True)
    asked = browser.open(authorize_url(partner, scope="openid profile", challenge=challenge,
                                       prompt="consent"))
    assert 'value="consent"' in asked.get_data(as_text=True)


def test_subjects_are_pairwise_stable_and_resolvable(app, client):
    person, first, browser = signed_in(app, client)
    second = make_partner(app, name="Second")
    subs = []
    for partner in (first, second, first):
        code, verifier, _ = get_code(browser, partner, person)
        subs.append(id_claims(client, exchange(client, partner, code, verifier).json["id_token"])["sub"])
    assert subs[0] == subs[2] and subs[0] != subs[1]
    assert resolve_subject(first["client_id"], subs[0]).id == person["profile"]["id"]
    assert resolve_subject(second["client_id"], subs[0]) is None


def test_claims_stay_within_the_registered_scopes(app, client):
    person, partner, browser = signed_in(app, client, scopes=("profile",))
    code, verifier, _ = get_code(browser, partner, person, scope="openid profile phone")
    token = exchange(client, partner, code, verifier).json
    assert token["scope"] == "openid profile"
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}).json
    assert "phone_number" not in info and info["name"] == person["name"]


def test_forms_need_their_csrf_token(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    form = form_with(page.get_data(as_text=True), "login")
    for token in ("", "forged"):
        answer = client.post(form["action"], data={**form["fields"], "csrf_token": token,
                                                   "username": person["phone"],
                                                   "password": person["password"]})
        assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_wrong_password_shows_the_form_again(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    answer = browser.sign_in(page, person["phone"], "not the password")
    assert answer.status_code == 401 and "not correct" in answer.get_data(as_text=True)
    assert 'value="login"' in answer.get_data(as_text=True)


def test_the_sign_in_cookie_is_http_only_and_same_site(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("onecode_signin=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert page.headers["X-Frame-Options"] == "DENY"


def test_refresh_tokens_rotate_and_a_replay_ends_the_grant(app, client):
    person, partner, browser = signed_in(app, client)
    code, verifier, _ = get_code(browser, partner, person)
    first = exchange(client, partner, code, verifier).json
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = client.post("/oauth/token", data=refresh, headers=basic(partner))
    assert second.status_code == 200
    replay = client.post("/oauth/token", data=refresh, headers=basic(partner))
    assert replay.json["error"] == "invalid_grant"
    later = client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": second.json["refresh_token"]})
    assert later.json["error"] == "invalid_grant"


def test_introspection_shows_a_partner_only_its_own_tokens(app, client):
    person, partner, browser = signed_in(app, client)
    other = make_partner(app, name="Nosy")
    code, verifier, _ = get_code(browser, partner, person)
    token = exchange(client, partner, code, verifier).json
    mine = client.post("/oauth/introspect", data={"token": token["access_token"]}, headers=basic(partner))
    assert mine.json["active"] is True
    theirs = client.post("/oauth/introspect", data={"token": token["access_token"]}, headers=basic(other))
    assert theirs.json == {"active": False}
    nobody = client.post("/oauth/introspect", data={"token": token["access_token"]})
    assert nobody.status_code == 401 and nobody.json["error"] == "invalid_client"


def test_the_sign_in_page_asks_for_the_one_time_code_when_two_step_is_on(app, client, clock):
    person, partner, browser = signed_in(app, client)
    secret = client.post("/api/v1/auth/totp", headers=person["headers"]).json["secret"]
    assert client.post("/api/v1/auth/totp/confirm", json={"otp": pyotp.TOTP(secret).now()},
                       headers=person["headers"]).status_code == 204
    clock.shift(30)  # each one-time code works once
    verifier, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    asked = browser.sign_in(page, person["phone"], person["password"])
    assert asked.status_code == 401 and "one-time code" in asked.get_data(as_text=True)
    page = browser.sign_in(asked, person["phone"], person["password"],
                           otp=pyotp.TOTP(secret).now())
    params = redirect_params(browser.consent(page))
    claims = id_claims(client, exchange(client, partner, params["code"], verifier).json["id_token"])
    assert claims["amr"] == ["pwd", "otp"]


def test_a_request_that_is_not_valid_checks_no_password(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    form = form_with(page.get_data(as_text=True), "login")
    action = form["action"].replace(partner["client_id"], "unknown-client")
    for _ in range(8):
        answer = client.post(action, data={**form["fields"], "username": person["phone"],
                                           "password": "wrong"})
        assert answer.status_code == 400 and "Location" not in answer.headers
    # Eight wrong passwords would have locked the account for a while; none was counted.
    assert "access_token" in login(client, person["phone"], person["password"])


def test_max_age_is_checked_when_the_request_arrives_not_when_consent_returns(app, client, clock):
    person, partner, browser = signed_in(app, client)
    verifier, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge, max_age="0"))
    page = browser.sign_in(page, person["phone"], person["password"])
    clock.shift(30)  # the person reads the consent page
    params = redirect_params(browser.consent(page))
    assert exchange(client, partner, params["code"], verifier).status_code == 200


def test_not_you_signs_the_browser_out(app, client):
    person, partner, browser = signed_in(app, client)
    _, challenge = pkce()
    page = browser.open(authorize_url(partner, challenge=challenge))
    page = browser.sign_in(page, person["phone"], person["password"])
    page = browser.submit(page, "logout")
    assert page.status_code == 200 and 'value="login"' in page.get_data(as_text=True)
    again = browser.open(authorize_url(partner, challenge=challenge))
    assert 'value="login"' in again.get_data(as_text=True)


def test_a_refresh_may_narrow_the_scope_but_not_widen_it(app, client):
    person, partner, browser = signed_in(app, client)
    code, verifier, _ = get_code(browser, partner, person, scope="openid profile")
    token = exchange(client, partner, code, verifier).json
    wider = client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "scope": "openid profile phone"})
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    narrower = client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "scope": "openid"})
    assert narrower.status_code == 200 and narrower.json["scope"] == "openid"
