"""Operations: /healthz touches nothing, /readyz names what is down within 5 s (a Redis that
hangs included), /metrics counts what happened, by route template and outcome, with no
personal data."""
from __future__ import annotations

import base64
import socket
import threading
import time

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from core.extensions import db
from tests.codes.support import make_service_point, my_code, scan
from tests.conftest import CHEAP_ARGON2


@pytest.fixture
def holder(client, clock):
    from tests.helpers import resident

    return resident(client)


@pytest.fixture
def scanner(client, clock):
    return make_service_point(client)


def _figures(client) -> dict:
    """(sample name, sorted labels) → value, from /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(figures: dict, name: str, **labels) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_touches_neither_database_nor_redis(app, client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise AssertionError("touched")

    monkeypatch.setattr(db.session, "execute", broken)
    monkeypatch.setattr(app.extensions["store"], "redis", None)  # any use would fail
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_ok_when_both_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_names_redis_when_it_refuses(app, client, monkeypatch):
    def refuse():
        raise redis.exceptions.ConnectionError("refused")

    monkeypatch.setattr(app.extensions["store"].redis, "ping", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/service-unavailable")
    assert response.json["checks"] == {"database": "ok", "redis": "down"}
    assert "redis" in response.json["detail"]
    assert response.headers["Retry-After"]


def _app(tmp_path, **overrides):
    return create_app({
        "TESTING": True, "LOG_LEVEL": "CRITICAL",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "ENCRYPTION_KEY": base64.b64encode(b"k" * 32).decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ready.db'}", "REDIS_URL": None,
        "REDIS_CLUSTER": False, "REDIS_JOBS_URL": None,
        **CHEAP_ARGON2, **overrides})


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers: a Redis that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_readyz_names_a_redis_that_hangs_within_five_seconds(tmp_path, silent_port):
    app = _app(tmp_path, REDIS_URL=f"redis://127.0.0.1:{silent_port}/0")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json["checks"]["redis"] in ("down", "timeout")
    assert response.json["checks"]["database"] == "ok"
    assert elapsed < 5


def test_readyz_names_a_database_that_is_down(tmp_path):
    app = _app(tmp_path, DATABASE_URL="postgresql://nobody:nothing@127.0.0.1:1/onecode")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "down", "redis": "ok"}
    with app.app_context():
        db.engine.dispose()


def test_metrics_count_requests_by_route_template_and_scans_by_outcome(client, holder, scanner):
    before = _figures(client)
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    assert scan(client, scanner, code).status_code == 409
    after = _figures(client)

    def delta(name, **labels):
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("onecode_scans_total", outcome="accepted") == 1
    assert delta("onecode_scans_total", outcome="code-already-used") == 1
    assert delta("onecode_codes_issued_total", kind="person") >= 1
    assert delta("onecode_http_requests_total", route="/api/v1/scans", method="POST",
                 status="201") == 1
    assert delta("onecode_http_requests_total", route="/api/v1/scans", method="POST",
                 status="409") == 1
    assert delta("onecode_http_request_duration_seconds_count", route="/api/v1/scans",
                 method="POST", status="201") == 1
    assert ("onecode_job_queue_depth", ()) in after


def test_metrics_count_sign_ins_by_method_and_outcome(client, holder):
    before = _figures(client)
    bad = client.post("/api/v1/auth/login", json={"username": holder["phone"],
                                                  "password": "not the password at all"})
    assert bad.status_code == 401
    after = _figures(client)
    assert (_value(after, "onecode_sign_ins_total", method="password",
                   outcome="invalid-credentials")
            - _value(before, "onecode_sign_ins_total", method="password",
                     outcome="invalid-credentials")) == 1


def test_metrics_carry_no_personal_data(client, holder, scanner):
    code = my_code(client, holder)["code"]
    scan(client, scanner, code)
    text = client.get("/metrics").get_data(as_text=True)
    for personal in (holder["id_number"], holder["phone"], holder["name"], code):
        assert personal not in text
    assert "<scan_id>" in text or "/api/v1/scans" in text
