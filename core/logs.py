"""Structured logs: one JSON object per line, no personal data.

Request lines carry the route's rule (``/api/v1/me/devices/<device_id>``), never the query
string or a body; identifiers in URLs are opaque anyway.
"""
from __future__ import annotations

import logging
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

_configured = False


def configure_logging(level: str) -> None:
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"levelname": "level", "asctime": "time"}))
    root.handlers[:] = [handler]
    _configured = True


def install_request_logging(app: Flask) -> None:
    @app.before_request
    def _start():
        g.request_started = started_at(request.environ)
        g.request_id = request_id(request.headers.get("X-Request-Id", ""))

    @app.after_request
    def _finish(response):
        started = g.get("request_started")
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if started is not None:
            log_request(g.get("request_id"), request.method,
                        request.url_rule.rule if request.url_rule else None,
                        response.status_code, time.perf_counter() - started)
        return response


_log = logging.getLogger("onecode.request")

# Where a middleware ahead of Flask (codes.fast_path) notes when it took the request, so that
# a request it hands on is timed from there.
STARTED = "onecode.request_started"


def started_at(environ) -> float:
    """When the request was taken: as a middleware noted it, else now."""
    return environ.get(STARTED) or time.perf_counter()


def request_id(given: str) -> str:
    """A request's id: the client's ``X-Request-Id`` (at most 64 characters), else a new one."""
    return given[:64] or uuid.uuid4().hex


def log_request(request_id: str | None, method: str, route: str | None, status: int,
                seconds: float) -> None:
    """The one line each request is logged with (at INFO)."""
    if _log.isEnabledFor(logging.INFO):
        _log.info("request", extra={"request_id": request_id, "method": method, "route": route,
                                    "status": status, "ms": round(seconds * 1000, 2)})
