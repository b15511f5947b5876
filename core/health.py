"""Operations: liveness, readiness and metrics, for the load balancer and Prometheus.

- ``GET /healthz``: the process answers; touches neither PostgreSQL nor Redis.
- ``GET /readyz``: PostgreSQL and Redis each answer a ping within ``READY_TIMEOUT_SECONDS``;
  else 503 naming which is down. The checks run in threads with a deadline, so a server that
  hangs (accepts and never answers) costs the deadline, not the client's patience.
- ``GET /metrics``: Prometheus text, summed over the workers (``core.metrics``).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Flask, current_app, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from core import metrics
from core.errors import problem_response
from core.logs import started_at
from core.extensions import db
from core.store import redis_client

blp = Blueprint("operations", __name__, description="Liveness, readiness and metrics")
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "`ok`"})


class ReadySchema(HealthSchema):
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "`database` and `redis`: `ok`, `down` or `timeout`"})


@blp.get("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """Liveness: the process answers (nothing else is touched)"""
    return {"status": "ok"}


def _database() -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis() -> None:
    redis_client().ping()


def _run(app: Flask, check) -> str:
    with app.app_context():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return "down"
        return "ok"


@blp.get("/readyz")
@blp.response(200, ReadySchema)
@blp.alt_response(503, description="`service-unavailable`, with `checks` as in the 200 answer")
def readyz():
    """Readiness: PostgreSQL and Redis answer within the deadline"""
    app = current_app._get_current_object()
    deadline = time.monotonic() + app.config["READY_TIMEOUT_SECONDS"]
    futures = {"redis": _checks.submit(_run, app, _redis)}
    checks = {}
    if db.engine.dialect.name == "sqlite":
        # A local file: it cannot hang the way a server can, and the request's own session
        # is the one connection it may have.
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:  # noqa: BLE001
            checks["database"] = "down"
    else:
        futures["database"] = _checks.submit(_run, app, _database)
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            checks[name] = "timeout"
    checks = dict(sorted(checks.items()))
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        response = problem_response("service-unavailable", 503, "Not ready",
                                    f"Not answering: {', '.join(down)}.", checks=checks)
        response.headers["Retry-After"] = "5"
        return response
    return {"status": "ok", "checks": checks}


@blp.get("/metrics")
@blp.doc(responses={"200": {"description": "Prometheus text format 0.0.4",
                            "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics_text():
    """Prometheus metrics, summed over every worker"""
    body, content_type = metrics.exposition(_queue_depth())
    return current_app.response_class(body, content_type=content_type)


def _queue_depth() -> int | None:
    from core import jobs

    try:
        return 0 if jobs.synchronous() else jobs.queue().count
    except Exception:  # noqa: BLE001 - Redis down: the gauge is left out, the rest answers
        return None


def install(app: Flask) -> None:
    """Time every request by its route template (the factory calls this)."""

    @app.before_request
    def _start_timer():
        g.metrics_started = started_at(request.environ)

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.observe_request(route, request.method, response.status_code,
                                    time.perf_counter() - started)
        return response

    with app.app_context():
        metrics.install_pool_gauge(db.engine)
