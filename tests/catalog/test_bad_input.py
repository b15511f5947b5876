"""Whatever a client sends to the catalogue and home routes, the answer is never a 5xx."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.catalog.support import load_sample_catalogue, make_publisher
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

# JSON has no infinities: a body with one is malformed-json (tests/app/test_untrusted_json.py).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
rule_like = st.fixed_dictionaries({}, optional={
    "credential": st.sampled_from(["resident-id", "social-security-card", "x"]) | json_values,
    "claim": st.sampled_from(["birthdate", "city", "name"]) | json_values,
    "op": st.sampled_from(["eq", "ne", "in", "contains", "gte", "lte", "exists", "age_gte", "age_lte"]) | json_values,
    "value": json_values})

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def actors(client, clock):
    load_sample_catalogue()
    holder = resident(client)
    police = make_issuer(client, "市公安局", ("resident-id",))
    hr = make_issuer(client, "市人社局", ("social-security-card",))
    issued(client, police, holder, claims=resident_id_claims(holder, birthdate="1950-02-29"))
    issued(client, hr, holder, "social-security-card", {"name": "张三丰", "id_number": holder["id_number"],
                                                         "card_number": "12", "city": "北京"})
    # Every policy posted below is evaluated against these claims at once.
    return holder, make_publisher(client)


@SETTINGS
@given(body=st.dictionaries(st.sampled_from(["name", "benefit", "rules", "valid_from", "valid_until", "x"]),
                            json_values | st.lists(rule_like, max_size=3), max_size=5))
def test_policy_bodies(client, actors, body):
    _holder, publisher = actors
    response = client.post("/api/v1/policies", json=body, headers=publisher["headers"])
    assert response.status_code < 500, (body, response.json)


@SETTINGS
@given(rules=st.lists(rule_like, min_size=1, max_size=3))
def test_policy_rules(client, actors, rules):
    _holder, publisher = actors
    response = client.post("/api/v1/policies", json={"name": "n", "benefit": "b", "rules": rules},
                           headers=publisher["headers"])
    assert response.status_code in (201, 422), (rules, response.json)


@SETTINGS
@given(body=json_values, form=json_values)
def test_application_bodies(client, actors, body, form):
    holder, _publisher = actors
    created = client.post("/api/v1/me/applications", json=body, headers=holder["headers"])
    assert created.status_code < 500, (body, created.json)
    draft = client.post("/api/v1/me/applications", json={"bundle": "retirement"}, headers=holder["headers"]).json
    submitted = client.post(f"/api/v1/me/applications/{draft['id']}/submit", json={"form": form},
                            headers=holder["headers"])
    assert submitted.status_code in (200, 422), (form, submitted.json)
