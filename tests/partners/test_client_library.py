"""An outside relying-party library walks the whole provider unchanged: Authlib's
OAuth2Session (over requests) for discovery, the code flow with PKCE, userinfo, refresh,
introspection and revocation; its JOSE and OpenID Connect helpers validate the ID token.
The person's part is played on the real HTML pages."""
import secrets

import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import resident
from tests.partners.support import ISSUER, REDIRECT_URI, Browser, FlaskTransport, make_partner


@pytest.fixture(autouse=True)
def _plain_http_for_the_client(monkeypatch):
    # The partner's library insists on https; the test issuer is http://onecode.test.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def partner_session(app, partner, **kwargs) -> OAuth2Session:
    session = OAuth2Session(partner["client_id"], partner["client_secret"],
                            scope="openid profile phone", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256", **kwargs)
    session.mount(ISSUER + "/", FlaskTransport(app.test_client()))
    return session


def validate_id_token(session, config, id_token, partner, nonce):
    keys = KeySet.import_key_set(session.get(config["jwks_uri"], withhold_token=True).json())
    decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
    claims = CodeIDToken(decoded.claims, decoded.header,
                         options={"iss": {"value": config["issuer"]},
                                  "aud": {"value": partner["client_id"]}},
                         params={"nonce": nonce})
    claims.validate()
    return decoded


def test_a_relying_party_library_walks_the_provider(app, client):
    person = resident(client)
    partner = make_partner(app)
    session = partner_session(app, partner)

    config = session.get(ISSUER + "/.well-known/openid-configuration", withhold_token=True).json()
    assert config["issuer"] == ISSUER
    assert config["code_challenge_methods_supported"] == ["S256"]

    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(config["authorization_endpoint"],
                                                  code_verifier=verifier, nonce=nonce)
    browser = Browser(client)
    page = browser.open(url)
    assert page.status_code == 200 and partner["name"] in page.get_data(as_text=True)
    page = browser.sign_in(page, person["phone"], person["password"])
    assert page.status_code == 200
    assert "your mobile phone number" in page.get_data(as_text=True)
    answer = browser.consent(page)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    assert f"state={state}" in location and "iss=http%3A%2F%2Fonecode.test" in location

    token = session.fetch_token(config["token_endpoint"], authorization_response=location,
                                code_verifier=verifier)
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    decoded = validate_id_token(session, config, token["id_token"], partner, nonce)
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"]
    assert decoded.claims["nonce"] == nonce
    assert decoded.claims["acr"] == "1" and "pwd" in decoded.claims["amr"]
    assert isinstance(decoded.claims["auth_time"], int)
    assert decoded.claims["name"] == person["name"]

    info = session.get(config["userinfo_endpoint"]).json()
    assert info == {"sub": decoded.claims["sub"], "name": person["name"],
                    "birthdate": info["birthdate"], "phone_number": "+86" + person["phone"]}

    old_refresh = token["refresh_token"]
    refreshed = session.refresh_token(config["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != old_refresh
    assert session.get(config["userinfo_endpoint"]).status_code == 200

    seen = session.introspect_token(config["introspection_endpoint"],
                                    token=refreshed["access_token"]).json()
    assert seen["active"] is True and seen["sub"] == decoded.claims["sub"]
    assert seen["client_id"] == partner["client_id"] and "openid" in seen["scope"]

    assert session.revoke_token(config["revocation_endpoint"], token=refreshed["refresh_token"],
                                token_type_hint="refresh_token").status_code == 200
    seen = session.introspect_token(config["introspection_endpoint"],
                                    token=refreshed["access_token"]).json()
    assert seen == {"active": False}
    assert session.get(config["userinfo_endpoint"]).status_code == 401


def test_the_device_flow_approved_from_the_phone_app(app, client):
    person = resident(client)
    partner = make_partner(app, name="Smart TV")
    session = partner_session(app, partner)
    config = session.get(ISSUER + "/.well-known/openid-configuration", withhold_token=True).json()

    started = session.post(config["device_authorization_endpoint"],
                           data={"scope": "openid profile"},
                           auth=(partner["client_id"], partner["client_secret"])).json()
    assert started["verification_uri_complete"].endswith("user_code=" + started["user_code"])
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"]}
    auth = (partner["client_id"], partner["client_secret"])
    pending = session.post(config["token_endpoint"], data=poll, auth=auth)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"

    shown = client.get(f"/api/v1/me/logins/{started['user_code']}", headers=person["headers"])
    assert shown.status_code == 200
    assert shown.json["partner"]["name"] == "Smart TV" and shown.json["scopes"] == ["openid", "profile"]
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/approve",
                       headers=person["headers"]).status_code == 204

    token = session.post(config["token_endpoint"], data=poll, auth=auth).json()
    decoded = jwt.decode(token["id_token"],
                         KeySet.import_key_set(session.get(config["jwks_uri"], withhold_token=True).json()),
                         algorithms=["RS256"])
    assert decoded.claims["aud"] == partner["client_id"] and decoded.claims["iss"] == ISSUER
    session.token = token
    info = session.get(config["userinfo_endpoint"]).json()
    assert info["name"] == person["name"] and "phone_number" not in info
    again = session.post(config["token_endpoint"], data=poll, auth=auth)
    assert again.status_code == 400
