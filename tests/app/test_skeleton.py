"""The application shell as any client meets it: problems, limits, the API document."""
import base64

import pytest

from app import create_app
from core.config import Config, ConfigError

JSON_ROUTE = "/api/v1/auth/login"


def assert_problem(response, status, short_name):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"].endswith("/" + short_name)
    assert body["status"] == status
    assert body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_openapi_document_lists_the_contract(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["info"]["title"] == "OneCode API"
    for path in ("/api/v1/residents", "/api/v1/auth/login", "/api/v1/me/code", "/api/v1/scans"):
        assert path in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_work_without_the_internet(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html  # every asset is served from here
    for asset_name in ("swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get("/api/docs/assets/" + asset_name).status_code == 200
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.data) > 100_000


def test_unknown_path_is_a_problem(client):
    assert_problem(client.get("/api/v1/nowhere"), 404, "not-found")


def test_wrong_method_is_a_problem_with_allow(client):
    response = client.delete(JSON_ROUTE)
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]


def test_broken_json_is_a_problem(client):
    response = client.post(JSON_ROUTE, data='{"username": "x", ', content_type="application/json")
    assert_problem(response, 400, "malformed-json")


def test_non_json_body_is_unsupported(client):
    response = client.post(JSON_ROUTE, data="username=x", content_type="text/plain")
    assert_problem(response, 415, "unsupported-media-type")


def test_a_form_to_a_json_route_is_unsupported(client):
    for content_type, data in (("application/x-www-form-urlencoded", "username=x&password=y"),
                               ("multipart/form-data; boundary=b",
                                '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nx\r\n--b--\r\n')):
        response = client.post(JSON_ROUTE, data=data, content_type=content_type)
        assert_problem(response, 415, "unsupported-media-type")
    response = client.post("/api/v1/residents", data={"name": "x"})
    assert_problem(response, 415, "unsupported-media-type")


def test_routes_that_take_forms_still_take_them(client):
    # The OAuth token endpoint reads a form (RFC 6749); face routes read multipart.
    response = client.post("/oauth/token", data={"grant_type": "authorization_code"})
    assert response.status_code in (400, 401) and response.mimetype == "application/json"
    response = client.post("/api/v1/auth/face/login", data={"username": "x"})
    assert response.status_code != 415


def test_docs_with_a_trailing_slash_work(client):
    response = client.get("/api/docs/", follow_redirects=True)
    assert response.status_code == 200 and "swagger-ui-bundle.js" in response.get_data(as_text=True)


def test_oversized_body_is_refused(client):
    big = b'{"username": "' + b"a" * (11 * 1024 * 1024) + b'"}'
    response = client.post(JSON_ROUTE, data=big, content_type="application/json")
    assert_problem(response, 413, "payload-too-large")


def test_validation_errors_are_listed_by_field(client):
    response = client.post("/api/v1/residents", json={"name": 5})
    body = assert_problem(response, 422, "validation-error")
    assert {"name", "id_number", "phone", "password"} <= set(body["errors"])


def test_json_array_body_is_a_validation_problem(client):
    response = client.post(JSON_ROUTE, json=[1, 2, 3])
    assert_problem(response, 422, "validation-error")


def test_responses_carry_a_request_id(client):
    response = client.get("/api/openapi.json", headers={"X-Request-Id": "abc123"})
    assert response.headers["X-Request-Id"] == "abc123"


def test_production_refuses_to_start_without_secrets():
    config = Config(DATABASE_URL="postgresql://u:p@127.0.0.1/db", REDIS_URL=None)
    with pytest.raises(ConfigError, match="SECRET_KEY and ENCRYPTION_KEY"):
        create_app(config)


def test_bad_encryption_key_is_refused():
    config = Config(DATABASE_URL="sqlite://", SECRET_KEY="s" * 40, ENCRYPTION_KEY="short")
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        create_app(config)


@pytest.mark.parametrize("ttl", [0, 61, -5])
def test_code_ttl_is_bounded(ttl):
    key = base64.b64encode(b"k" * 32).decode()
    config = Config(DATABASE_URL="sqlite://", SECRET_KEY="s" * 40, ENCRYPTION_KEY=key,
                    CODE_TTL_SECONDS=ttl)
    with pytest.raises(ConfigError, match="CODE_TTL_SECONDS"):
        create_app(config)


def test_environment_is_read_with_types(monkeypatch):
    monkeypatch.setenv("CODE_TTL_SECONDS", "45")
    monkeypatch.setenv("PUBLIC_URL", "https://id.example")
    config = Config.from_env()
    assert config.CODE_TTL_SECONDS == 45
    assert config.PUBLIC_URL == "https://id.example"
    monkeypatch.setenv("CODE_TTL_SECONDS", "soon")
    with pytest.raises(ConfigError, match="CODE_TTL_SECONDS must be an integer"):
        Config.from_env()
