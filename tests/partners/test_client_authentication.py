"""Client authentication at every endpoint that asks for it: an unknown client and a wrong
secret answer alike, and a Basic header that cannot be read is a 401 ``invalid_client``."""
import base64

import pytest

from partners import client_auth
from tests.partners.support import REDIRECT_URI, make_partner

# Each endpoint that authenticates clients, with a body it would otherwise accept as a request.
ENDPOINTS = {
    "/oauth/token": {"grant_type": "authorization_code", "code": "some-code",
                     "redirect_uri": REDIRECT_URI, "code_verifier": "v" * 43},
    "/oauth/revoke": {"token": "some-token"},
    "/oauth/introspect": {"token": "some-token"},
    "/oauth/device_authorization": {"scope": "openid"},
}


def _basic(raw: bytes) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _answer(response) -> tuple:
    """Everything a client could tell two failures apart by."""
    return (response.status_code, response.get_json(), response.headers.get("WWW-Authenticate"),
            response.mimetype)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_client_and_a_wrong_secret_answer_alike_over_basic(app, client, path):
    partner = make_partner(app)
    unknown = client.post(path, data=ENDPOINTS[path],
                          headers=_basic(f"AAAAAAAAAAAAAAAAAAAAAA:{partner['client_secret']}".encode()))
    wrong = client.post(path, data=ENDPOINTS[path],
                        headers=_basic(f"{partner['client_id']}:not-the-secret".encode()))
    assert _answer(unknown) == _answer(wrong)
    assert unknown.status_code == 401 and unknown.get_json()["error"] == "invalid_client"
    assert unknown.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_client_and_a_wrong_secret_answer_alike_in_the_form(app, client, path):
    partner = make_partner(app)
    unknown = client.post(path, data={**ENDPOINTS[path], "client_id": "AAAAAAAAAAAAAAAAAAAAAA",
                                      "client_secret": partner["client_secret"]})
    wrong = client.post(path, data={**ENDPOINTS[path], "client_id": partner["client_id"],
                                    "client_secret": "not-the-secret"})
    odd = client.post(path, data={**ENDPOINTS[path], "client_id": "no\x00such client",
                                  "client_secret": "x"})
    assert _answer(unknown) == _answer(wrong) == _answer(odd)
    assert unknown.status_code == 401 and unknown.get_json()["error"] == "invalid_client"


def test_an_unknown_client_costs_the_same_digest_comparison_as_a_wrong_secret(app, client,
                                                                                monkeypatch):
    partner = make_partner(app)
    compared = []
    real = client_auth.hmac.compare_digest

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(client_auth.hmac, "compare_digest", spy)
    for client_id, secret in (("AAAAAAAAAAAAAAAAAAAAAA", partner["client_secret"]),
                              (partner["client_id"], "not-the-secret")):
        compared.clear()
        answer = client.post("/oauth/revoke", data={"token": "t"},
                             headers=_basic(f"{client_id}:{secret}".encode()))
        assert answer.status_code == 401
        assert compared == [(64, 64)]


BROKEN_BASIC = {
    "not UTF-8": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "not base64": "Basic %%%not*base64%%%",
    "bad padding": "Basic abc",
    "no colon": "Basic " + base64.b64encode(b"client-without-secret").decode(),
    "empty": "Basic ",
    "not ASCII": "Basic \u00e9t\u00e9:secret",
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("header", BROKEN_BASIC.values(), ids=BROKEN_BASIC.keys())
def test_a_broken_basic_header_is_invalid_client(app, client, path, header):
    answer = client.post(path, data=ENDPOINTS[path], headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.mimetype == "application/json"
    assert answer.get_json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_broken_basic_header_is_refused_even_beside_good_form_credentials(app, client, path):
    partner = make_partner(app)
    form = {"client_id": partner["client_id"], "client_secret": partner["client_secret"]}
    answer = client.post(path, data={**ENDPOINTS[path], **form},
                         headers={"Authorization": BROKEN_BASIC["not UTF-8"]})
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_client"


def test_percent_encoded_basic_credentials_still_work(app, client):
    partner = make_partner(app)
    raw = f"{partner['client_id']}:{partner['client_secret']}".replace("-", "%2D").encode()
    answer = client.post("/oauth/device_authorization", data={"scope": "openid"},
                         headers=_basic(raw))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["device_code"]
