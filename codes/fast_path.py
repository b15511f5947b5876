"""``GET /api/v1/me/code`` answered at the edge of the app, when its answer is in Redis.

A phone asks for its code every few seconds, all day: the platform's most frequent request.
Its answer is nearly always the cached current code (``codes.service``), found with the
sign-in check in one Redis round trip. Taking that request through Flask's dispatch and its
dozen hooks costs several times the work itself, so this WSGI middleware answers it first:

1. only ``GET /api/v1/me/code`` with no query string;
2. the bearer token passes the routes' own check (``core.auth.bearer_claims``: the same
   per-worker cache of verified tokens, the sign-in read in Redis, so logout and revocation
   are immediate here as well) and is a resident's naming a code handle;
3. the cached code, read in the same ``MGET``, is usable (before ``refresh_after``, its key
   still published).

Then it answers 200 with the body, ``Cache-Control: no-store`` and ``X-Request-Id``, counts
the request in the metrics and logs it as every request is logged. Anything else (no token,
a bad or expired one, a sign-in ended, no usable cached code, Redis failing) goes to the app
unchanged, which answers as it always has: a problem, a new code, a 503. The middleware only
ever answers what the route would have answered; ``CODE_FAST_PATH`` turns it off.
"""
from __future__ import annotations

import time

from flask import Flask

from core import clock, metrics
from core.auth import RESIDENT, bearer_claims
from core.errors import Problem
from core.logs import log_request, request_id
from core.responses import dumps
from codes import service

PATH = "/api/v1/me/code"


class MyCodeFastPath:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET"
                or environ.get("QUERY_STRING")):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        with self.app.app_context():
            body = _cached_answer(environ.get("HTTP_AUTHORIZATION", ""))
        if body is None:
            return self.wsgi_app(environ, start_response)
        given_id = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body))),
                                  ("Cache-Control", "no-store"),
                                  ("X-Request-Id", given_id)])
        seconds = time.perf_counter() - started
        metrics.observe_request(PATH, "GET", 200, seconds)
        log_request(given_id, "GET", PATH, 200, seconds)
        return [body]


def _cached_answer(authorization: str) -> bytes | None:
    """The route's answer when it is the cached code, else None (the app answers)."""
    try:
        claims, prefetched = bearer_claims(authorization, prefetch=service.my_code_keys)
        if claims.get("kind") != RESIDENT or not claims.get("h"):
            return None
        cached = service.decode_cached(prefetched[service.code_key(claims["h"])])
        if cached is None or not cached.usable(clock.timestamp()):
            return None
        return dumps(cached.as_dict())
    except Problem:
        return None
    except Exception:  # noqa: BLE001 - Redis or the key store failing: the app answers (503)
        return None


def install(app: Flask) -> None:
    """Put the fast path in front of ``app`` (the factory calls this; ``CODE_FAST_PATH``)."""
    if app.config["CODE_FAST_PATH"]:
        app.wsgi_app = MyCodeFastPath(app, app.wsgi_app)
