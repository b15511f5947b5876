"""No input gives a 5xx: hostile bodies and headers sent to every route of the app.

Each example is one hostile request, sent to every route in ``app.url_map`` with each of its
methods (path parameters filled with an opaque id): without a token, and to the routes that
need one with a valid token of the kind they take. The examples are derandomised, so CI sees
the same ones every run.
"""
from __future__ import annotations

import base64
import inspect
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.auth import ISSUER, RESIDENT, SERVICE_POINT
from tests.app.test_untrusted_json import nested
from tests.codes.support import make_service_point
from tests.helpers import resident
from tests.wallet.support import make_issuer

# Fields the API's bodies carry, so that hostile values reach the schemas, not only the parser.
FIELDS = ["username", "password", "otp", "code", "purpose", "credential", "audience", "claims",
          "name", "id_number", "phone", "type", "holder", "reason", "rules", "form", "types",
          "service_item", "bundle", "status", "note", "client_id", "client_secret", "uscc",
          "refresh_token", "relation", "role", "scopes", "expires_at", "benefit", "valid_from",
          "valid_until", "consent", "image", "challenge", "device_id", "device_proof", "grant_type",
          "token", "scope", "redirect_uri", "code_verifier", "user_code", "action", "csrf_token"]
# The OAuth routes whose client authentication reads a Basic header: an undecodable one is
# ``test_oauth_routes_refuse_undecodable_basic_headers``'s.
CLIENT_AUTH_ROUTES = ("/oauth/token", "/oauth/revoke", "/oauth/introspect",
                      "/oauth/device_authorization")
SIGNS_OUT = {"identity.logout"}  # would end the sign-in whose token the other routes use

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_SETTINGS = dict(derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Bodies -----------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40) | st.just("\x00") | st.just("\ud800"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner,
                                                                 max_size=4),
    max_leaves=12)


@st.composite
def _wrong_types(draw):
    """A JSON object of the API's field names with values of any type."""
    return json.dumps(draw(st.dictionaries(st.sampled_from(FIELDS), _json_values, max_size=6)))


@st.composite
def _under_a_field(draw, value_text):
    return '{"%s": %s}' % (draw(st.sampled_from(FIELDS)), draw(value_text))


_deep = st.integers(65, 20_000).map(nested)
_huge_number = st.integers(1001, 6000).map(lambda n: "9" * n) | st.sampled_from(
    ["1e999", "-1e999", "NaN", "Infinity", "1" + "0" * 5000 + ".5", "1e" + "9" * 2000])
_huge_string = st.sampled_from([10_000, 300_000]).map(lambda n: json.dumps("字" * n))

_json_texts = st.one_of(
    _deep, _under_a_field(_deep), _huge_number, _under_a_field(_huge_number), _huge_string,
    _under_a_field(_huge_string), _wrong_types(),
    st.sampled_from(['{"username": "a\\u0000b", "password": "\\u0000"}', '{"\\ud800": 1}',
                     '{"code": "\\udfff"}', "", "{", "[]", "null", '"x"', "0"]))


@st.composite
def _multipart(draw):
    boundary = "hostile"
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), st.binary(max_size=64), max_size=4))
    parts = b"".join(b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="f"\r\n'
                     b"Content-Type: image/jpeg\r\n\r\n%s\r\n"
                     % (boundary.encode(), name.encode(), value) for name, value in fields.items())
    garbage = draw(st.binary(max_size=200))
    body = draw(st.sampled_from([parts + b"--hostile--\r\n", parts + garbage, garbage]))
    ctype = draw(st.sampled_from([f"multipart/form-data; boundary={boundary}",
                                  "multipart/form-data", 'multipart/form-data; boundary=""']))
    return ctype, body


bodies = st.one_of(
    st.tuples(st.sampled_from(["application/json", "application/json; charset=utf-8",
                               "application/merge-patch+json"]),
              _json_texts.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    st.tuples(st.just("application/json"), st.binary(max_size=300)),
    st.tuples(st.just("application/json"),
              st.sampled_from([b'{"name": "\xff\xfe"}', b"\x00" * 50, b'\xef\xbb\xbf{"a": 1}',
                               b'{"a"\x00: 1}'])),
    _multipart(),
    st.tuples(st.just("application/x-www-form-urlencoded"),
              st.binary(max_size=200) | st.sampled_from([b"a=%ff%fe&b=%00", b"&" * 3000,
                                                         b"grant_type=" + b"x" * 20_000])),
    st.tuples(st.sampled_from(["text/plain", "image/gif", "application/xml", "x/\u00ff", ";;;",
                               ""]),
              st.binary(min_size=1, max_size=100)),
)


# Headers ----------------------------------------------------------------------------------

# Header values as a client can send them: any byte but CR and LF, read as Latin-1.
_latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
_header_bytes = st.binary(max_size=40).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1"))
_deep_jwt = "Bearer " + _b64(("[" * 3000 + "]" * 3000).encode()) + ".e30.c2ln"
_long_int_jwt = "Bearer " + _b64(b'{"alg": ' + b"1" * 5000 + b"}") + ".e30.c2ln"
authorizations = st.one_of(
    st.just(None),
    st.sampled_from(["Bearer", "Bearer ", "bearer  a b c", "Basic", "Basic !!!", "Basic Og==",
                     "Basic " + base64.b64encode(b"client:").decode(), _deep_jwt, _long_int_jwt,
                     "Bearer a.b.c", "Bearer " + "x" * 20_000, "Digest x", "\x00"]),
    _latin1.map(lambda t: "Bearer " + t),
    _header_bytes.map(lambda text: "Bearer " + text),
    st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode()),
)
languages = st.one_of(st.just(None), _latin1,
                      st.sampled_from(["zh-CN;q=abc", "*;q=99999999999999999999", "en;q=-1",
                                       "x" * 10_000, ",,,;;;", "en-US,en;q=0.5,\u00ff"]))
content_types = st.sampled_from([None, "application/json", "application/json; charset=utf-16",
                                 "multipart/form-data", "multipart/form-data; boundary=",
                                 "text/plain; charset=\u00ff", "application/x-www-form-urlencoded",
                                 "application/problem+json", "*/*", ""])
cookies = st.sampled_from([None, "session=garbage", "session=" + "a" * 5000, "session=.eJx.x.x"])


@st.composite
def header_sets(draw) -> dict:
    headers = {"Authorization": draw(authorizations), "Accept-Language": draw(languages),
               "Content-Type": draw(content_types), "Cookie": draw(cookies),
               "Accept": draw(st.sampled_from([None, "*/*", "text/html", "\u00ff", "a/b;q=x"]))}
    return {name: value for name, value in headers.items() if value is not None}


# Sending ----------------------------------------------------------------------------------


def _routes(app):
    """``(endpoint, path, method, token kind or None)`` for every route of the app."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        check = getattr(view, "bearer_check", None)
        kind = inspect.getclosurevars(check).nonlocals["kind"] if check else None
        path = _PARAM.sub("x1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, path, method, kind


def _send(client, path: str, method: str, headers: dict, content_type=None, body=None):
    response = client.open(path, method=method, headers=headers, data=body,
                           content_type=content_type)
    assert response.status_code < 500, (method, path, headers, (body or b"")[:200],
                                        response.status_code, response.get_data()[:300])
    if response.status_code >= 400 and path.startswith("/api/v1/"):
        assert response.mimetype == "application/problem+json", (method, path, response.status_code)
    return response


@pytest.fixture
def tokens(client):
    """A valid bearer token of each client kind."""
    return {RESIDENT: resident(client)["headers"]["Authorization"],
            SERVICE_POINT: make_service_point(client)["headers"]["Authorization"],
            ISSUER: make_issuer(client)["headers"]["Authorization"]}


def test_every_route_is_reached(app):
    routes = list(_routes(app))
    assert {path for _, path, _, _ in routes} >= {
        "/api/v1/scans", "/oauth/token", "/oauth/authorize", "/api/v1/me/face",
        "/.well-known/openid-configuration"}
    assert sum(kind is not None for *_, kind in routes) > 40


@settings(max_examples=60, **_SETTINGS)
@given(body=bodies)
def test_hostile_bodies_without_a_token_give_no_5xx(app, client, body):
    content_type, data = body
    for _, path, method, _ in _routes(app):
        _send(client, path, method, {}, content_type, data)


@settings(max_examples=60, **_SETTINGS)
@given(body=bodies)
def test_hostile_bodies_with_a_valid_token_give_no_5xx(app, client, tokens, body):
    content_type, data = body
    for endpoint, path, method, kind in _routes(app):
        if kind is not None and endpoint not in SIGNS_OUT:
            _send(client, path, method, {"Authorization": tokens[kind]}, content_type, data)


@settings(max_examples=80, **_SETTINGS)
@given(headers=header_sets(), body=st.sampled_from([None, b"{}", b"grant_type=x&token=y"]))
def test_hostile_headers_give_no_5xx(app, client, headers, body):
    unreadable = _unreadable_by_authlib(headers.get("Authorization"))
    for _, path, method, _ in _routes(app):
        if unreadable and path in CLIENT_AUTH_ROUTES:
            continue  # test_oauth_routes_refuse_undecodable_basic_headers
        content_type = headers.get("Content-Type") if body is not None else None
        sent = {k: v for k, v in headers.items() if k != "Content-Type"}
        _send(client, path, method, sent, content_type, body)


def _unreadable_by_authlib(authorization: str | None) -> bool:
    """Whether Authlib's own Basic parsing (``extract_basic_authorization``) fails on this
    header: a scheme with nothing after it, or Basic credentials that are not UTF-8."""
    if not authorization or " " not in authorization:
        return False
    parts = authorization.split(None, 1)
    if len(parts) < 2:
        return True
    if parts[0].lower() != "basic":
        return False
    try:
        base64.b64decode(parts[1]).decode("utf-8")
    except UnicodeDecodeError:
        return True
    except ValueError:
        return False
    return False


# A broken Authorization header on the routes that authenticate a partner is a 401
# invalid_client (RFC 6749 section 5.2), as the contract says; client authentication is
# identity/oidc's, where the reading of these headers is being replaced.
@pytest.mark.parametrize("path", CLIENT_AUTH_ROUTES)
@pytest.mark.parametrize("authorization", [
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Basic " + base64.b64encode(b"partner:\xc3\x28").decode(),
    "Basic " + base64.b64encode(b"\x80").decode(),
    "Basic ", "Bearer "], ids=["id-not-utf8", "secret-not-utf8", "one-byte-not-utf8", "basic-empty",
                              "bearer-empty"])
def test_oauth_routes_refuse_undecodable_basic_headers(client, path, authorization):
    assert _unreadable_by_authlib(authorization)
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://x.example",
            "token": "x", "scope": "openid"}
    response = client.post(path, data=form, headers={"Authorization": authorization})
    assert response.status_code == 401, response.get_data()[:200]
    assert response.mimetype == "application/json"
    assert response.json["error"] == "invalid_client"
