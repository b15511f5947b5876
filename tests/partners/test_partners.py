"""The resident's partners (list, withdraw), the operator's commands, and key rotation."""
import json

from joserfc import jwt
from joserfc.jwk import KeySet

from core.extensions import db
from partners.models import OAuthClient
from tests.helpers import resident
from tests.partners.support import Browser, basic, exchange, get_code, make_partner


def test_partners_are_listed_and_withdrawing_revokes_their_tokens(app, client):
    person = resident(client)
    partner = make_partner(app, name="Partner Bank", scopes=("profile",))
    browser = Browser(client)
    code, verifier, _ = get_code(browser, partner, person, scope="openid profile")
    token = exchange(client, partner, code, verifier).json

    listed = client.get("/api/v1/me/partners", headers=person["headers"]).json
    assert [(p["client_id"], p["name"], p["scopes"]) for p in listed] == [
        (partner["client_id"], "Partner Bank", ["openid", "profile"])]
    assert any("name" in words for words in listed[0]["may_read"])

    url = f"/api/v1/me/partners/{partner['client_id']}"
    assert client.delete(url, headers=person["headers"]).status_code == 204
    assert client.get("/api/v1/me/partners", headers=person["headers"]).json == []
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/oauth/userinfo", headers=bearer).status_code == 401
    refreshed = client.post("/oauth/token", headers=basic(partner), data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert refreshed.json["error"] == "invalid_grant"
    assert client.delete(url, headers=person["headers"]).status_code == 404
    # The next sign-in asks again.
    page = browser.open(f"/oauth/authorize?response_type=code&client_id={partner['client_id']}"
                        f"&redirect_uri=https://partner.example/callback&scope=openid"
                        f"&code_challenge={'a' * 43}&code_challenge_method=S256")
    assert 'value="consent"' in page.get_data(as_text=True)


def test_someone_elses_partner_is_not_found(app, client):
    person, other = resident(client), resident(client)
    partner = make_partner(app)
    get_code(Browser(client), partner, person)
    assert client.delete(f"/api/v1/me/partners/{partner['client_id']}",
                         headers=other["headers"]).status_code == 404


def test_partner_create_prints_credentials_and_stores_only_a_digest(app, runner, client):
    result = runner.invoke(args=["partner", "create", "City Library",
                                 "--redirect-uri", "https://library.example/cb",
                                 "--scope", "profile"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    stored = db.session.get(OAuthClient, out["client_id"])
    assert stored.name == "City Library" and stored.scope == "openid profile"
    assert out["client_secret"] not in (stored.secret_hash, stored.sector)
    assert stored.check_client_secret(out["client_secret"])
    refused = runner.invoke(args=["partner", "create", "Bad", "--redirect-uri",
                                  "http://bad.example/cb", "--scope", "email"])
    assert refused.exit_code != 0 and "https" in refused.output and "email" in refused.output


def test_wrong_secret_is_refused_at_the_token_endpoint(app, client):
    partner = make_partner(app)
    wrong = dict(partner, client_secret="not-it")
    answer = client.post("/oauth/token", headers=basic(wrong),
                         data={"grant_type": "authorization_code", "code": "x",
                               "redirect_uri": "https://partner.example/callback"})
    assert answer.status_code == 401 and answer.json["error"] == "invalid_client"


def test_key_rotation_keeps_the_old_key_published(app, client, runner):
    person = resident(client)
    partner = make_partner(app)
    browser = Browser(client)
    code, verifier, _ = get_code(browser, partner, person)
    old_token = exchange(client, partner, code, verifier).json["id_token"]
    result = runner.invoke(args=["partner", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_kid = json.loads(result.output)["kid"]

    keys = KeySet.import_key_set(client.get("/oauth/jwks").json)
    assert len(keys.keys) == 2
    old = jwt.decode(old_token, keys, algorithms=["RS256"])
    assert old.header["kid"] != new_kid
    code, verifier, _ = get_code(browser, partner, person)
    new = jwt.decode(exchange(client, partner, code, verifier).json["id_token"], keys,
                     algorithms=["RS256"])
    assert new.header["kid"] == new_kid


def test_discovery_follows_the_request_when_no_public_url(app, client):
    app.config["PUBLIC_URL"] = None
    try:
        config = client.get("/.well-known/openid-configuration",
                            base_url="https://id.example.org").json
    finally:
        app.config["PUBLIC_URL"] = "http://onecode.test"
    assert config["issuer"] == "https://id.example.org"
    assert config["token_endpoint"] == "https://id.example.org/oauth/token"
    assert config["authorization_response_iss_parameter_supported"] is True
    assert config["subject_types_supported"] == ["pairwise"]
