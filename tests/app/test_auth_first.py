"""Authentication comes before validation: a request without a valid token gets 401 on every
route that needs one, whatever its body, never an answer about fields it had no right to send."""
from __future__ import annotations

import pytest

from core.auth import MissingToken


def _bearer_routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "bearer_check", None) is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _path(rule) -> str:
    return rule.rule.replace("<", "").replace(">", "").replace("path:", "")


def test_every_route_that_needs_a_token_is_found(app):
    routes = {(r.rule, m) for r, m in _bearer_routes(app)}
    assert ("/api/v1/scans", "POST") in routes
    assert ("/api/v1/issuer/credentials", "POST") in routes
    assert len(routes) > 40


@pytest.mark.parametrize("body", [{}, {"code": 1, "purpose": []}, None])
def test_scan_without_a_token_is_401_not_422(client, body):
    response = client.post("/api/v1/scans", json=body) if body is not None else client.post(
        "/api/v1/scans", data="{not json", content_type="application/json")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/unauthorized")
    assert "errors" not in response.json


def test_every_bearer_route_answers_401_before_reading_a_bad_body(app, client):
    for rule, method in _bearer_routes(app):
        response = client.open(_path(rule), method=method, data="{]",
                               content_type="application/json")
        assert response.status_code == 401, (method, rule.rule, response.json)
        assert response.json["type"].endswith("/" + MissingToken.type), (method, rule.rule)


def test_a_wrong_content_type_without_a_token_is_401_too(client):
    response = client.post("/api/v1/me/applications", data=b"\x00\x01", content_type="image/gif")
    assert response.status_code == 401


def test_a_bad_token_is_401_before_validation(client):
    response = client.post("/api/v1/scans", json={}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json["type"].endswith("/invalid-token")
