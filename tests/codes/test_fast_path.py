"""``GET /me/code`` answered ahead of Flask when its answer is the cached code
(codes/fast_path.py): the same answer the route gives, and the route's answer whenever the
fast path cannot tell (no token, a sign-in ended, no cached code, Redis failing)."""
from __future__ import annotations

import io
import json

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


# POST /scans: a scan the group commit writes is answered ahead of Flask; the app answers
# every other request to the route, and every refusal, once.

@pytest.fixture
def gate(grouped):
    """A client of the app with group commit on, its service point, a resident, and the
    requests that reached Flask's dispatch."""
    seen = []

    def note(_sender, **_extra):
        seen.append(1)

    request_started.connect(note, grouped)
    client = grouped.test_client()
    yield {"app": grouped, "client": client, "scanner": make_service_point(client),
           "holder": resident(client), "dispatched": seen}
    request_started.disconnect(note, grouped)


def _scan_figures(client, status: str, outcome: str) -> tuple[float, float]:
    from tests.app.test_operations import _figures, _value

    figures = _figures(client)
    return (_value(figures, "onecode_http_requests_total", route="/api/v1/scans",
                   method="POST", status=status),
            _value(figures, "onecode_scans_total", outcome=outcome))


def _behind(gate) -> Client:
    """A client of the app without the fast paths: the route itself."""
    return Client(gate["app"].wsgi_app.wsgi_app)


def test_an_accepted_scan_is_answered_ahead_of_flask_as_the_route_answers_it(gate):
    client, scanner, holder = gate["client"], gate["scanner"], gate["holder"]
    code = my_code(client, holder)["code"]
    counted = _scan_figures(client, "201", "accepted")
    before = len(gate["dispatched"])
    fast = client.post("/api/v1/scans", json={"code": code, "purpose": "identity-check"},
                       headers={**scanner["headers"], "X-Request-Id": "gate-7"})
    assert fast.status_code == 201, fast.json
    assert len(gate["dispatched"]) == before  # answered ahead of Flask
    assert fast.headers["X-Request-Id"] == "gate-7"
    assert _scan_figures(client, "201", "accepted") == (counted[0] + 1, counted[1] + 1)
    # The route, for the holder's next code: the same headers and the same body but its id.
    routed = _behind(gate).post("/api/v1/scans", headers=scanner["headers"], json={
        "code": my_code(client, holder)["code"], "purpose": "identity-check"})
    assert _stable(routed)[:2] == _stable(fast)[:2]
    assert routed.json["subject"] == fast.json["subject"] == {
        "kind": "person", "display_name": routed.json["subject"]["display_name"],
        "assurance_level": 1}
    assert set(routed.json) == set(fast.json) and routed.json["scan_id"] != fast.json["scan_id"]
    listed = client.get("/api/v1/me/scans", headers=holder["headers"]).json
    assert {s["scan_id"] for s in listed} == {fast.json["scan_id"], routed.json["scan_id"]}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_refused_scan_is_answered_by_the_app_once(gate, language, monkeypatch):
    client, scanner = gate["client"], gate["scanner"]
    code = my_code(client, gate["holder"])["code"]
    assert scan(client, scanner, code).status_code == 201
    counted = _scan_figures(client, "409", "code-already-used")
    before = len(gate["dispatched"])
    headers = {**scanner["headers"], "Accept-Language": language}
    body = {"code": code, "purpose": "identity-check"}
    from codes import scans as scans_module

    def scanned_again(*_args):
        raise AssertionError("the route scanned a code the fast path refused")

    monkeypatch.setattr(scans_module, "scan_code", scanned_again)
    refused = client.post("/api/v1/scans", json=body, headers=headers)
    assert refused.status_code == 409 and problem_type(refused) == "code-already-used"
    assert len(gate["dispatched"]) == before + 1  # the app rendered it
    assert _scan_figures(client, "409", "code-already-used") == (counted[0] + 1, counted[1] + 1)
    monkeypatch.undo()
    routed = _behind(gate).post("/api/v1/scans", json=body, headers=headers)
    assert _stable(routed) == _stable(refused)  # translated and shaped as the route does


def test_a_purpose_the_service_point_may_not_scan_for_is_refused_once(gate):
    client = gate["client"]
    code = my_code(client, gate["holder"])["code"]
    counted = _scan_figures(client, "403", "purpose-not-allowed")
    refused = scan(client, gate["scanner"], code, purpose="tax-filing")
    assert refused.status_code == 403 and problem_type(refused) == "purpose-not-allowed"
    assert _scan_figures(client, "403", "purpose-not-allowed") == (counted[0] + 1, counted[1] + 1)
    assert scan(client, gate["scanner"], code).status_code == 201  # the code was not spent


def test_an_offline_code_is_the_routes_counted_once(gate):
    import time

    from tests.codes.test_devices import _add_device, _offline_code

    client = gate["client"]
    device = _add_device(client, gate["holder"])
    counted = _scan_figures(client, "201", "accepted")
    before = len(gate["dispatched"])
    accepted = scan(client, gate["scanner"], _offline_code(device, time.time()))
    assert accepted.status_code == 201, accepted.json
    assert len(gate["dispatched"]) == before + 1
    assert _scan_figures(client, "201", "accepted") == (counted[0] + 1, counted[1] + 1)


@pytest.mark.parametrize("change, status", [
    ({"headers": {"Authorization": "Bearer nonsense"}}, 401),
    ({"headers": {}}, 401),
    ({"resident": True}, 403),
    ({"json": {"extra": 1}}, 422),
    ({"json": {"code": "x" * 5000}}, 422),
    ({"query": "?purpose=identity-check"}, 201),
    ({"form": True}, 415),
])
def test_requests_it_cannot_take_whole_go_to_the_route(gate, change, status):
    client, scanner = gate["client"], gate["scanner"]
    body = {"code": my_code(client, gate["holder"])["code"], "purpose": "identity-check"}
    body.update(change.get("json", {}))
    headers = change.get("headers", scanner["headers"])
    if change.get("resident"):
        headers = gate["holder"]["headers"]
    before = len(gate["dispatched"])
    path = "/api/v1/scans" + change.get("query", "")
    if change.get("form"):
        answer = client.post(path, data=body, headers=headers)
    else:
        answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert len(gate["dispatched"]) == before + 1


def test_the_body_is_what_the_scan_schema_writes():
    from datetime import datetime, timezone

    from codes.scans import ScanResult
    from codes.schemas import ScanSchema

    result = ScanResult("s1", datetime(2026, 12, 4, 8, 30, tzinfo=timezone.utc),
                        {"kind": "person", "display_name": "张*", "assurance_level": 1})
    assert result.as_body() == ScanSchema().dump(result)


def test_a_code_shown_for_someone_else_is_the_routes_counted_once(gate):
    # Its kind is known only once its signature verified: the fast path then leaves it,
    # uncounted, to the route, which checks who showed it.
    from tests.delegation.test_proxies import _active

    client = gate["client"]
    son, mother = gate["holder"], resident(gate["client"], name="李秀英")
    proxy_id = _active(client, son, mother, "parent")
    shown = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"])
    assert shown.status_code == 200, shown.json
    counted = _scan_figures(client, "201", "accepted")
    before = len(gate["dispatched"])
    accepted = scan(client, gate["scanner"], shown.json["code"])
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["subject"]["shown_by"]["relation"] == "parent"
    assert len(gate["dispatched"]) == before + 1
    assert _scan_figures(client, "201", "accepted") == (counted[0] + 1, counted[1] + 1)


def test_a_refused_scan_is_timed_from_the_fast_path(gate, monkeypatch):
    # The app answers a refusal; its duration counts the time the fast path spent on it
    # (waiting for the batch, say), not only the app's own part.
    import time as real_time

    from codes import fast_path
    from tests.app.test_operations import _figures, _value

    client, scanner = gate["client"], gate["scanner"]
    code = my_code(client, gate["holder"])["code"]
    assert scan(client, scanner, code).status_code == 201

    class FiveSecondsEarlier:
        @staticmethod
        def perf_counter():
            return real_time.perf_counter() - 5.0

    def seconds():
        return _value(_figures(client), "onecode_http_request_duration_seconds_sum",
                      route="/api/v1/scans", method="POST", status="409")

    before = seconds()
    monkeypatch.setattr(fast_path, "time", FiveSecondsEarlier)
    assert scan(client, scanner, code).status_code == 409
    assert seconds() - before >= 5.0


class _WatchedBody(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)


def test_the_token_is_checked_before_the_body_is_read(gate):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    body = json.dumps({"code": my_code(gate["client"], gate["holder"])["code"],
                       "purpose": "identity-check"}).encode()
    stream = _WatchedBody(body)
    environ = EnvironBuilder(path="/api/v1/scans", method="POST", input_stream=stream,
                             content_length=len(body), content_type="application/json",
                             headers={"Authorization": "Bearer nonsense"}).get_environ()
    _app_iter, status, _headers = run_wsgi_app(gate["app"].wsgi_app, environ)
    assert status.startswith("401")
    assert stream.reads == 0


def test_a_body_over_the_fast_paths_limit_goes_to_the_route(gate):
    client = gate["client"]
    body = json.dumps({"code": my_code(client, gate["holder"])["code"],
                       "purpose": "identity-check"}) + " " * 5000  # valid JSON, > 4 KB
    before = len(gate["dispatched"])
    answer = client.post("/api/v1/scans", data=body, content_type="application/json",
                         headers=gate["scanner"]["headers"])
    assert answer.status_code == 201, answer.json
    assert len(gate["dispatched"]) == before + 1


def test_a_body_framed_by_transfer_encoding_goes_to_the_route(gate):
    from codes.fast_path import _small_json_body

    body = b'{"code": "x", "purpose": "identity-check"}'
    environ = {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
               "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)}
    assert _small_json_body(environ) is None
    assert environ["wsgi.input"].tell() == 0  # nothing read
