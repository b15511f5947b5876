"""``GET /me/code`` answered ahead of Flask when its answer is the cached code
(codes/fast_path.py): the same answer the route gives, and the route's answer whenever the
fast path cannot tell (no token, a sign-in ended, no cached code, Redis failing)."""
from __future__ import annotations

import pytest
from flask import request_started
from werkzeug.test import Client

from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.helpers import resident


@pytest.fixture
def dispatched(app):
    """How many requests reached Flask's dispatch."""
    seen = []

    def note(_sender, **_extra):
        seen.append(1)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


def _stable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("X-Request-Id", "Date")}
    return response.status_code, headers, response.get_data()


def test_the_cached_code_is_answered_as_the_route_answers_it(app, client, dispatched):
    holder = resident(client)
    first = my_code(client, holder)  # signs and caches the code: the route
    before = len(dispatched)
    fast = client.get("/api/v1/me/code", headers={**holder["headers"], "X-Request-Id": "r-1"})
    assert len(dispatched) == before  # answered ahead of Flask
    assert fast.json == first and fast.headers["X-Request-Id"] == "r-1"
    behind = Client(app.wsgi_app.wsgi_app).get("/api/v1/me/code", headers=holder["headers"])
    assert _stable(fast) == _stable(behind)


def test_a_sign_in_that_ended_gets_the_routes_answer(client, dispatched):
    holder = resident(client)
    my_code(client, holder)
    assert client.post("/api/v1/auth/logout", headers=holder["headers"]).status_code == 204
    refused = client.get("/api/v1/me/code", headers=holder["headers"])
    assert refused.status_code == 401 and problem_type(refused) == "token-revoked"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"},
                                     {"Authorization": "Basic eDp5"}])
def test_a_missing_or_bad_token_gets_the_routes_answer(client, headers):
    refused = client.get("/api/v1/me/code", headers=headers)
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_a_service_points_token_gets_the_routes_answer(client):
    scanner = make_service_point(client)
    refused = client.get("/api/v1/me/code", headers=scanner["headers"])
    assert refused.status_code == 403


def test_after_a_scan_the_route_signs_a_new_code(client, dispatched):
    holder, scanner = resident(client), make_service_point(client)
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    before = len(dispatched)
    assert my_code(client, holder)["code"] != code
    assert len(dispatched) == before + 1  # no cached code: the route answered


def test_redis_failing_gets_the_routes_answer(app, client, monkeypatch):
    import redis

    from codes import fast_path

    holder = resident(client)
    my_code(client, holder)

    def down(*_args, **_kwargs):
        raise redis.exceptions.ConnectionError("gone")

    monkeypatch.setattr(fast_path, "bearer_claims", down)
    answer = client.get("/api/v1/me/code", headers=holder["headers"])
    assert answer.status_code == 200  # the route read Redis itself and answered


def test_the_fast_answer_is_counted_in_the_metrics(client):
    from tests.app.test_operations import _figures, _value

    holder = resident(client)
    my_code(client, holder)
    before = _value(_figures(client), "onecode_http_requests_total", route="/api/v1/me/code",
                    method="GET", status="200")
    client.get("/api/v1/me/code", headers=holder["headers"])
    after = _value(_figures(client), "onecode_http_requests_total", route="/api/v1/me/code",
                   method="GET", status="200")
    assert after == before + 1


def test_the_body_is_what_the_code_schema_writes():
    from codes.schemas import CodeSchema
    from codes.service import IssuedCode

    issued = IssuedCode("OC1:X", 1_795_600_800, 1_795_600_760, "kid")
    assert issued.as_dict() == CodeSchema().dump(issued.as_body())
