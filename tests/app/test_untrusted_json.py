"""JSON from outside is loaded within bounds: nesting deeper than 64 levels, numbers of more
than 1,000 digits, NaN and infinities, text that is not UTF-8 and lone surrogates are a 400
``malformed-json`` on every route, never a 500; inside an SD-JWT they make it ``malformed``."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core import untrusted_json
from core.untrusted_json import MAX_DEPTH, MAX_DIGITS, MalformedJson
from tests.codes.support import problem_type
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer


def nested(depth: int, leaf: str = "1") -> str:
    """Arrays and objects in turn, ``depth`` levels deep."""
    openers = ['{"a": ' if level % 2 == 0 else "[" for level in range(depth)]
    closers = ["}" if level % 2 == 0 else "]" for level in range(depth)]
    return "".join(reversed(openers)) + leaf + "".join(closers)


def _login(client, body: str | bytes):
    return client.post("/api/v1/auth/login", data=body, content_type="application/json")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 5000, 100_000])
def test_json_nested_deeper_than_64_levels_is_malformed_json(client, depth):
    response = _login(client, '{"username": ' + nested(depth) + ', "password": "x"}')
    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"


def test_json_nested_64_levels_deep_is_read(client):
    response = _login(client, '{"username": ' + nested(MAX_DEPTH - 1) + ', "password": "x"}')
    assert response.status_code == 422  # read, then refused by field: not a string
    assert "username" in response.json["errors"]


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    body = json.dumps({"username": "13900000000", "password": "[{" * 1000 + '\\"]'})
    response = _login(client, body)
    assert response.status_code == 401
    assert problem_type(response) == "invalid-credentials"


@pytest.mark.parametrize("number", ["9" * (MAX_DIGITS + 1), "-" + "9" * 5000,
                                    "1." + "0" * MAX_DIGITS, "1e" + "0" * MAX_DIGITS])
def test_a_number_longer_than_1000_digits_is_malformed_json(client, number):
    response = _login(client, '{"username": ' + number + ', "password": "x"}')
    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"


def test_a_number_of_1000_digits_is_read(client):
    response = _login(client, '{"username": ' + "9" * MAX_DIGITS + ', "password": "x"}')
    assert response.status_code == 422
    assert "username" in response.json["errors"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "-2.5E400"])
def test_nan_and_numbers_too_large_for_a_float_are_malformed_json(client, value):
    response = _login(client, '{"username": "a", "password": ' + value + "}")
    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"


@pytest.mark.parametrize("body", [b'{"username": "\\ud800", "password": "x"}',
                                  b'{"\\udfff": 1, "username": "a", "password": "x"}',
                                  b'{"username": "\xff\xfe", "password": "x"}',
                                  b'{"username": "\xed\xa0\x80", "password": "x"}'])
def test_lone_surrogates_and_bytes_that_are_not_utf8_are_malformed_json(client, body):
    response = _login(client, body)
    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"


def test_a_surrogate_pair_is_one_character(client):
    response = _login(client, b'{"username": "\\ud83d\\ude00", "password": "x"}')
    assert response.status_code == 401


def test_a_hostile_body_with_a_valid_token_is_malformed_json(client):
    holder = resident(client)
    response = client.post("/api/v1/me/proxies", data=nested(3000), content_type="application/json",
                           headers=holder["headers"])
    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"


def test_a_hostile_body_without_a_token_is_still_401(client):
    response = client.post("/api/v1/me/proxies", data=nested(3000), content_type="application/json")
    assert response.status_code == 401


def _b64(raw: bytes | str) -> str:
    raw = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("part", ["header", "payload"])
def test_verify_calls_an_sd_jwt_with_hostile_json_malformed(client, part):
    hostile = _b64(nested(5000))
    header, payload = _b64('{"alg": "EdDSA"}'), _b64('{"iss": "x"}')
    jwt = f"{hostile}.{payload}.c2ln" if part == "header" else f"{header}.{hostile}.c2ln"
    response = client.post("/api/v1/credentials/verify", json={"credential": jwt + "~"})
    assert response.status_code == 200
    assert response.json["valid"] is False and response.json["problems"] == ["malformed"]


@pytest.mark.parametrize("where", ["disclosure", "key-binding"])
def test_verify_calls_a_signed_credential_with_a_hostile_part_malformed(client, where):
    holder = resident(client)
    credential = issued(client, make_issuer(client), holder)["credential"]
    jwt, *disclosures, _ = credential.split("~")
    hostile = _b64('["salt", "name", ' + nested(5000) + "]")
    if where == "disclosure":
        text = "~".join([jwt, *disclosures, hostile, ""])
    else:
        text = "~".join([jwt, *disclosures, f"{_b64('{}')}.{hostile}.c2ln"])
    response = client.post("/api/v1/credentials/verify", json={"credential": text})
    assert response.status_code == 200
    assert response.json["valid"] is False and response.json["problems"] == ["malformed"]


# The loader itself ---------------------------------------------------------------------

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=200, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_json_within_bounds_loads_as_json_does(value):
    text = json.dumps(value, ensure_ascii=False)
    assert untrusted_json.loads(text) == json.loads(text)
    assert untrusted_json.loads(text.encode()) == json.loads(text)


@settings(max_examples=50, derandomize=True, database=None)
@given(st.integers(MAX_DEPTH + 1, 20_000), st.sampled_from(["[", '{"k":', '[{"k":']))
def test_any_nesting_past_the_bound_is_refused(depth, opener):
    closer = {"[": "]", '{"k":': "}", '[{"k":': "}]"}[opener]
    with pytest.raises(MalformedJson):
        untrusted_json.loads(opener * depth + "0" + closer * depth)


def test_a_refusal_is_a_value_error_too():
    with pytest.raises(ValueError):
        untrusted_json.loads("[" * 100 + "]" * 100)
