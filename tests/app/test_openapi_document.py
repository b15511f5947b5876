"""The OpenAPI document describes every route as it answers: errors as RFC 9457 problems with
the ``errors`` that are really sent, the request checks' 401/403/400/413/415/503 where they
can happen, and the OpenID Connect provider with its RFC 6749 bodies."""
from __future__ import annotations

import re

import jsonschema_rs
import pytest

from core.schemas import PROBLEM_JSON
from tests.codes.support import make_service_point
from tests.helpers import resident
from tests.wallet.support import make_issuer

OAUTH_PATHS = {"/.well-known/openid-configuration", "/oauth/authorize", "/oauth/token",
               "/oauth/userinfo", "/oauth/revoke", "/oauth/introspect", "/oauth/jwks",
               "/oauth/device_authorization", "/oauth/device"}
# The document itself, its viewer and static files.
UNDOCUMENTED = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets",
                "docs_with_a_slash"}
# The pages for people (web/): HTML, and the counter console's own calls behind its session.
PAGE_BLUEPRINTS = ("web.", "counter.")
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").json


def _resolve(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def _errors(spec: dict):
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                yield path, method, status, _resolve(spec, response)


def test_every_api_error_is_documented_as_a_problem(spec):
    checked = 0
    for path, method, status, response in _errors(spec):
        if path in OAUTH_PATHS:
            continue
        assert set(response.get("content", {})) == {PROBLEM_JSON}, (method, path, status)
        schema = response["content"][PROBLEM_JSON]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
        checked += 1
    assert checked > 300


def test_flask_smorests_own_error_shape_is_gone(spec):
    assert "Error" not in spec["components"]["schemas"]
    assert "DEFAULT_ERROR" not in spec["components"].get("responses", {})
    assert all("default" not in operation["responses"] for _, _, operation in _operations(spec))


def test_the_problem_schema_is_rfc_9457_with_errors_by_field(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    assert {"detail", "errors"} <= set(problem["properties"])
    field_errors = spec["components"]["schemas"]["FieldErrors"]
    nested = field_errors["additionalProperties"]["oneOf"]
    assert {"type": "array", "items": {"type": "string"}} in nested
    assert {"$ref": "#/components/schemas/FieldErrors"} in nested


def test_every_route_of_the_app_is_in_the_document(app, spec):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED or rule.endpoint.startswith(PAGE_BLUEPRINTS):
            continue
        path = _PARAM.sub(r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
        assert methods <= set(spec["paths"].get(path, {})), (rule.endpoint, path)


def test_oauth_and_discovery_paths_are_present(spec):
    assert OAUTH_PATHS <= set(spec["paths"])
    token = spec["paths"]["/oauth/token"]["post"]
    assert set(token["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    discovery = spec["paths"]["/.well-known/openid-configuration"]["get"]["responses"]["200"]
    assert discovery["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenIDConfiguration"}
    assert "partnerBasic" in spec["components"]["securitySchemes"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect",
                                  "/oauth/device_authorization"])
def test_oauth_errors_are_documented_as_rfc_6749_bodies(spec, path):
    responses = spec["paths"][path]["post"]["responses"]
    oauth_error = {"$ref": "#/components/schemas/OAuthError"}
    assert responses["400"]["content"]["application/json"]["schema"] == oauth_error
    assert responses["401"]["content"]["application/json"]["schema"] == oauth_error
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert set(spec["components"]["schemas"]["OAuthError"]["required"]) == {"error"}


def test_routes_that_need_a_token_document_the_bearer_check(app, spec):
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "bearer_check", None) is None:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            responses = spec["paths"][_PARAM.sub(r"{\1}", rule.rule)][method.lower()]["responses"]
            assert "WWW-Authenticate" in _resolve(spec, responses["401"]).get("headers", {}), rule
            assert "403" in responses, rule


def test_body_routes_document_the_body_checks(spec):
    for path, method, operation in _operations(spec):
        if method in ("post", "put", "patch"):
            assert {"400", "413", "415", "503"} <= set(operation["responses"]), (method, path)


def test_routes_with_an_id_in_the_path_document_404(spec):
    checked = 0
    for path, method, operation in _operations(spec):
        if "{" in path and path not in OAUTH_PATHS:
            assert "404" in operation["responses"], (method, path)
            checked += 1
    assert checked > 30


def test_a_status_list_that_does_not_exist_is_the_documented_404(client, spec):
    response = client.get("/api/v1/status-lists/nope")
    assert response.status_code == 404
    responses = spec["paths"]["/api/v1/status-lists/{list_id}"]["get"]["responses"]
    documented = _resolve(spec, responses["404"])
    assert set(documented["content"]) == {response.mimetype}


def test_no_openapi_2_parameters_are_left(spec):
    places = {p["in"] for _, _, operation in _operations(spec)
              for p in operation.get("parameters", [])}
    assert places <= {"path", "query", "header", "cookie"}


def _validator(spec: dict, component: str):
    return jsonschema_rs.Draft4Validator({"$ref": f"#/components/schemas/{component}",
                                          "components": spec["components"]})


def test_nested_validation_errors_fit_the_documented_problem(client, spec):
    issuer = make_issuer(client)
    response = client.post("/api/v1/issuer/credentials", headers=issuer["headers"],
                           json={"type": "resident-id", "holder": {"id_number": 5},
                                 "claims": {"name": "x"}, "valid_from": ["not a date"]})
    assert response.status_code == 422
    assert isinstance(response.json["errors"]["holder"], dict)  # nested, not a list
    _validator(spec, "Problem").validate(response.json)


@pytest.mark.parametrize("request_args", [
    ("post", "/api/v1/auth/login", {"data": "[" * 100, "content_type": "application/json"}),
    ("post", "/api/v1/auth/login", {"data": b"\x00", "content_type": "image/gif"}),
    ("get", "/api/v1/me", {"headers": {"Authorization": "Bearer x"}}),
])
def test_the_request_checks_answers_fit_the_documented_problem(client, spec, request_args):
    method, path, kwargs = request_args
    response = client.open(path, method=method.upper(), **kwargs)
    documented = _resolve(spec, spec["paths"][path][method]["responses"][str(response.status_code)])
    assert response.mimetype in documented["content"]
    _validator(spec, "Problem").validate(response.json)


def test_a_token_of_another_kind_is_the_documented_403(client, spec):
    scanner = make_service_point(client)
    response = client.get("/api/v1/me", headers=scanner["headers"])
    assert response.status_code == 403
    assert "403" in spec["paths"]["/api/v1/me"]["get"]["responses"]
    _validator(spec, "Problem").validate(response.json)


def test_oauth_error_bodies_fit_the_document(client, spec):
    response = client.post("/oauth/token", data={"grant_type": "password"})
    assert response.status_code in (400, 401)
    assert response.mimetype in spec["paths"]["/oauth/token"]["post"]["responses"][
        str(response.status_code)]["content"]
    _validator(spec, "OAuthError").validate(response.json)
    holder = resident(client)
    userinfo = client.get("/oauth/userinfo", headers=holder["headers"])  # not a partner token
    assert userinfo.status_code == 401
    _validator(spec, "OAuthError").validate(userinfo.json)


def test_discovery_fits_the_document(client, spec):
    discovery = client.get("/.well-known/openid-configuration").json
    _validator(spec, "OpenIDConfiguration").validate(discovery)
    _validator(spec, "PartnerJwks").validate(client.get("/oauth/jwks").json)
