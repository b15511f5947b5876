"""Any JSON at the enterprise and proxy routes is answered with a 2xx or a 4xx, never a 5xx."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.enterprises.support import verified_enterprise
from tests.helpers import resident

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
_fields = st.fixed_dictionaries({}, optional={
    "name": _json, "uscc": _json | st.just("91350100M000100Y43"), "id_number": _json,
    "relation": _json | st.sampled_from(["parent", "child"]), "role": _json | st.just("staff"),
    "scopes": _json | st.just(["show-code"]), "expires_at": _json | st.just("2030-01-01T00:00:00Z")})
_FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(body=_json | _fields)
def test_post_bodies_never_5xx(client, body):
    person = resident(client)
    for path in ("/api/v1/enterprises", "/api/v1/me/proxies"):
        response = client.post(path, json=body, headers=person["headers"])
        assert response.status_code < 500, (path, body, response.json)


@_FUZZ
@given(body=_json | _fields, odd=st.text(min_size=1, max_size=40).filter(lambda t: "/" not in t and t not in ".."))
def test_member_bodies_and_odd_ids_never_5xx(client, body, odd):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    response = client.post(f"/api/v1/enterprises/{enterprise['id']}/members", json=body, headers=boss["headers"])
    assert response.status_code < 500, (body, response.json)
    for method, path in (("get", f"/api/v1/enterprises/{odd}"), ("delete", f"/api/v1/enterprises/{enterprise['id']}/members/{odd}"),
                         ("get", f"/api/v1/me/proxies/{odd}"), ("post", f"/api/v1/me/proxies/{odd}/accept")):
        response = getattr(client, method)(path.replace("?", "%3F").replace("#", "%23"), headers=boss["headers"])
        assert response.status_code < 500, (method, path)
